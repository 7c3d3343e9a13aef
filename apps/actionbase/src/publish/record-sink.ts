import type { Writable } from 'node:stream';
import type { Producer } from '@pipeline/kafka';

export interface KeyedRecord {
  key: string;
  /** The encoded (JSON) record. */
  value: string;
}

/** Where WAL and CDC records go: Kafka, or the log when no Kafka is configured (as Actionbase does). */
export interface RecordSink {
  readonly kind: 'kafka' | 'log';
  /** Resolves once durably accepted (Kafka: acknowledged by all in-sync replicas). */
  publishWal(records: KeyedRecord[]): Promise<void>;
  publishCdc(records: KeyedRecord[]): Promise<void>;
  close(): Promise<void>;
}

export class KafkaRecordSink implements RecordSink {
  readonly kind = 'kafka';
  constructor(
    private readonly producer: Producer,
    private readonly topics: { wal: string; cdc: string },
  ) {}
  publishWal(records: KeyedRecord[]): Promise<void> {
    return this.producer.send(this.topics.wal, records);
  }
  publishCdc(records: KeyedRecord[]): Promise<void> {
    return this.producer.send(this.topics.cdc, records);
  }
  close(): Promise<void> {
    return this.producer.close();
  }
}

/** One JSON line per record: `{"topic":"wal","key":"a:b","record":{...}}`. */
export class LogRecordSink implements RecordSink {
  readonly kind = 'log';
  constructor(private readonly out: Writable) {}
  private write(topic: string, records: KeyedRecord[]): Promise<void> {
    let chunk = '';
    for (const r of records) chunk += `{"topic":"${topic}","key":${JSON.stringify(r.key)},"record":${r.value}}\n`;
    return new Promise((resolve, reject) => this.out.write(chunk, (err) => (err ? reject(err) : resolve())));
  }
  publishWal(records: KeyedRecord[]): Promise<void> {
    return this.write('wal', records);
  }
  publishCdc(records: KeyedRecord[]): Promise<void> {
    return this.write('cdc', records);
  }
  async close(): Promise<void> {}
}
