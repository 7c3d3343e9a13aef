import type { OutgoingMessage, Producer } from './types';

/**
 * A producer that replaces its idempotent producer after a failed send; every producer of createKafka is one.
 *
 * Why: a send that failed may still have been appended (the broker got the request and answered too late, or
 * the client gave up on a request the broker appends later, or keeps retrying it after the caller was
 * answered), and the client numbers a partition's next batch from what it saw acknowledged. The broker takes
 * a later batch that reuses the numbers and record count of an appended one for a retry of it: acknowledged
 * and dropped, a record lost. With another count it answers OUT_OF_ORDER_SEQUENCE_NUMBER, which the client
 * never recovers from. A new producer id starts its numbering afresh, and closing the old producer ends its
 * own retries. (apps/actionbase/test/relay-frozen-broker.int.spec.ts shows both on a frozen broker.)
 *
 * The replacement is made at the next send, so a broker that is down costs the caller's retries, not a loop
 * here; a replacement that cannot be made fails that send, and the send after it tries again. Sends in flight
 * on the old producer when one of them fails fail too (it is closed); each caller retries as for any failure.
 */
export class RenewingProducer implements Producer {
  private current: Promise<Producer> | null;
  private closed = false;

  constructor(
    private readonly create: () => Promise<Producer>,
    first?: Producer,
  ) {
    this.current = first ? Promise.resolve(first) : null;
  }

  async send(topic: string, messages: OutgoingMessage[]): Promise<void> {
    if (this.closed) throw new Error(`send to ${topic} after the producer was closed`);
    if (messages.length === 0) return;
    const current = (this.current ??= this.create());
    let producer: Producer;
    try {
      producer = await current;
    } catch (err) {
      if (this.current === current) this.current = null;
      throw err;
    }
    try {
      await producer.send(topic, messages);
    } catch (err) {
      // Only the first failure of a producer replaces it; the sends that fail with it find a new one already.
      if (this.current === current) {
        this.current = null;
        await producer.close().catch(() => undefined);
      }
      throw err;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const current = this.current;
    this.current = null;
    const producer = await current?.catch(() => null);
    await producer?.close();
  }
}
