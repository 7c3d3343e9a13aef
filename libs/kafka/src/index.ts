export * from './types';
export { createKafka, type KafkaClient } from './client';
export { RenewingProducer } from './renewing-producer';
export { DEFAULT_REQUEST_TIMEOUT_MS, DEFAULT_RETRIES, DEFAULT_RETRY_DELAY_MS } from './config';
export { KafkaUnavailableError, isKafkaUnavailable } from './errors';
export { murmur2, toPositive, partitionForKey, positiveKeyHash } from './partitioner';
