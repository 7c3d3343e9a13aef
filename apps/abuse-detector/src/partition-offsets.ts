/** The broker's end offsets, the group's committed offsets and its members, for the sink to know which partitions are read to their end and by whom. */
import type { Admin, GroupMember, KafkaClient } from '@pipeline/kafka';
import { SinkError } from '@pipeline/stream';
import type { PartitionOffsets } from './abuse-detector.sink';

export class KafkaPartitionOffsets implements PartitionOffsets {
  private admin: Promise<Admin> | undefined;

  constructor(
    private readonly kafka: KafkaClient,
    private readonly group: string,
  ) {}

  endOffsets(topic: string): Promise<Map<number, bigint>> {
    return this.ask('end offsets', topic, (a) => a.endOffsets(topic));
  }

  committedOffsets(topic: string): Promise<Map<number, bigint>> {
    return this.ask('committed offsets', topic, (a) => a.committedOffsets(this.group, topic));
  }

  groupMembers(): Promise<GroupMember[]> {
    return this.ask('members', `the group ${this.group}`, (a) => a.groupMembers(this.group));
  }

  async close(): Promise<void> {
    const a = this.admin;
    this.admin = undefined;
    await (await a?.catch(() => undefined))?.close().catch(() => undefined);
  }

  private async ask<T>(what: string, topic: string, f: (a: Admin) => Promise<T>): Promise<T> {
    try {
      return await f(await (this.admin ??= this.kafka.admin()));
    } catch (err) {
      // A new client next time: the failed one may be the cause.
      await this.close();
      throw new SinkError('OFFSETS_UNAVAILABLE', `could not read the ${what} of ${topic}: ${(err as Error).message}`, { retryable: true, cause: err });
    }
  }
}
