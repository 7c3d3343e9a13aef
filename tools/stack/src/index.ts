export { stackDir, repoRoot } from './paths';
export { StackError } from './errors';
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
} from './services/kafka';
export {
  ensureElasticsearch,
  startElasticsearch,
  stopElasticsearch,
  cleanElasticsearch,
  elasticsearchStatus,
  elasticsearchReady,
  DEFAULT_ES_VERSION,
  type ElasticsearchOptions,
  type ElasticsearchStatus,
  type ElasticsearchSecurity,
  type ElasticsearchAccess,
  type ElasticsearchStartResult,
} from './services/elasticsearch';
export {
  ensureDruid,
  startDruid,
  stopDruid,
  cleanDruid,
  druidStatus,
  DEFAULT_DRUID_VERSION,
  type DruidOptions,
  type DruidStatus,
} from './services/druid';
export {
  ensurePostgres,
  startPostgres,
  stopPostgres,
  cleanPostgres,
  postgresStatus,
  postgresReady,
  postgresUrl,
  createDatabase,
  PG_SUPERUSER,
  type PostgresOptions,
  type PostgresStatus,
} from './services/postgres';
export { ensurePyiceberg, pyicebergStatus, venvPython, duckdbExtension, DUCKDB_VERSION } from './services/pyiceberg';
export { ensureIcebergRest, startIcebergRest, stopIcebergRest, cleanIcebergRest, icebergRestStatus, type IcebergRestOptions } from './services/iceberg-rest';
export { ensureTrino, startTrino, stopTrino, cleanTrino, trinoStatus, trinoQuery, DEFAULT_TRINO_VERSION, type TrinoOptions } from './services/trino';
export { startService, stopService, cleanService, serviceStatus, type ServiceSpec, type ProcessSpec, type LifecycleStatus } from './lifecycle';
export { findJava } from './java';
export { services, type Service, type ServiceStatus } from './services/index';
export {
  startPrometheus,
  stopPrometheus,
  cleanPrometheus,
  prometheusStatus,
  prometheusReady,
  prometheusQuery,
  rewriteScrapeConfig,
  NPM_START_TARGETS,
  type PrometheusOptions,
  type PrometheusStatus,
} from './services/prometheus';
export { kafkaToolsClasspath, runKafkaTool, producerPerformance, parseProducerPerf, consumerPerformance, parseConsumerPerf, kafkaToolsArtifacts, type ProducerPerfResult, type ConsumerPerfResult } from './kafka-tools';
