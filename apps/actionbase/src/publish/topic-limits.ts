import type { RecordLimits } from '../engine/mutation-engine';

/** Kafka's default `message.max.bytes` (the broker's, inherited by topics that do not set their own). */
export const KAFKA_DEFAULT_MAX_MESSAGE_BYTES = 1_048_588;

/**
 * Room kept below max.message.bytes for what Kafka adds around a record value: the record batch
 * header (61 bytes), the record's own framing and its key (a `source:target` of two keys of at most
 * 4 KiB each).
 */
export const RECORD_OVERHEAD_BYTES = 10 * 1024;

export const recordLimitsOf = (walMaxMessageBytes: number, cdcMaxMessageBytes: number): RecordLimits => ({
  walRecordBytes: walMaxMessageBytes - RECORD_OVERHEAD_BYTES,
  cdcRecordBytes: cdcMaxMessageBytes - RECORD_OVERHEAD_BYTES,
});

/**
 * Reads `max.message.bytes` of each topic from the broker: the limit a produce of one record batch
 * must stay under. Read once at start; a topic reconfigured later takes effect at the next start.
 * (The project's Kafka admin has no describe-configs; this is the client's own.)
 */
export async function maxMessageBytes(brokers: string[], clientId: string, topics: string[]): Promise<Map<string, number>> {
  // Loaded only when used, as the rest of the Kafka client (the log-only mode needs none).
  const { Admin, ConfigResourceTypes } = await import('@platformatic/kafka');
  const admin = new Admin({ clientId: `${clientId}-limits`, bootstrapBrokers: brokers, connectTimeout: 5000, requestTimeout: 5000, retries: 2 });
  try {
    const res = await admin.describeConfigs({
      resources: topics.map((t) => ({ resourceType: ConfigResourceTypes.TOPIC, resourceName: t, configurationKeys: ['max.message.bytes'] })),
    });
    const out = new Map<string, number>();
    for (const r of res) {
      const v = r.configs.find((c) => c.name === 'max.message.bytes')?.value;
      const n = v ? Number(v) : NaN;
      out.set(r.resourceName, Number.isSafeInteger(n) && n > 0 ? n : KAFKA_DEFAULT_MAX_MESSAGE_BYTES);
    }
    return out;
  } finally {
    await admin.close().catch(() => undefined);
  }
}
