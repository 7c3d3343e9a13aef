export { stackDir, repoRoot } from './paths.js';
export { StackError } from './errors.js';
export {
  ensureKafka,
  startKafka,
  stopKafka,
  cleanKafka,
  kafkaStatus,
  metadataReady,
  DEFAULT_KAFKA_VERSION,
  type KafkaOptions,
  type KafkaStatus,
  type StartResult,
} from './services/kafka.js';
export { services, type Service, type ServiceStatus } from './services/index.js';
