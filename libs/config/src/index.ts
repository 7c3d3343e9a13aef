/**
 * @pipeline/config: environment parsing for every app (parseConfig, ConfigError) and the variables several
 * apps share (LOG_LEVEL, KAFKA_BROKERS, listen hosts and ports). Kafka's SASL/TLS variables are read where
 * they are applied, by libs/kafka (securityFromEnv).
 */
export { parseConfig, ConfigError, type ConfigIssue } from './parse';
export { LOG_LEVELS, logLevel, kafkaBrokers, listenHost, port } from './shared';
