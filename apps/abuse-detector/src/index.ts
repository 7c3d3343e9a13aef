/**
 * @pipeline/abuse-detector: the detector's sink and its parts, for running it inside another process (the
 * benchmark drives it through libs/stream). The service itself starts from main.ts.
 */
export { AbuseDetectorSink, DetectorMetrics, type AbuseDetectorSinkOptions, type PartitionOffsets } from './abuse-detector.sink';
export { KafkaEsAlertOutput, type AlertOutput } from './alert-publisher';
export { KafkaPartitionOffsets } from './partition-offsets';
export { loadRulesFile, parseRules, RulesError, type RulesFile } from './rules';
