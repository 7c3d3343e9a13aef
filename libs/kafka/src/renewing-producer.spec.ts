import { describe, expect, it } from '@jest/globals';
import { RenewingProducer } from './renewing-producer';
import type { OutgoingMessage, Producer } from './types';

/** A producer that records what it sent; told to, it fails the next send, or holds sends until the test settles them. */
class FakeProducer implements Producer {
  readonly sent: string[] = [];
  closed = false;
  failNext: Error | null = null;
  hold = false;
  readonly held: { values: string[]; settle: (err?: Error) => void }[] = [];
  constructor(readonly id: number) {}
  send(_topic: string, messages: OutgoingMessage[]): Promise<void> {
    const values = messages.map((m) => String(m.value));
    if (this.closed) return Promise.reject(new Error(`producer ${this.id} is closed`));
    if (this.failNext) {
      const err = this.failNext;
      this.failNext = null;
      return Promise.reject(err);
    }
    if (!this.hold) {
      this.sent.push(...values);
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      this.held.push({ values, settle: (err) => (err ? reject(err) : (this.sent.push(...values), resolve())) });
    });
  }
  close(): Promise<void> {
    this.closed = true;
    for (const h of this.held.splice(0)) h.settle(new Error(`producer ${this.id} closed while sending`));
    return Promise.resolve();
  }
}

function factory(): { made: FakeProducer[]; create: () => Promise<Producer>; failCreate: (err: Error) => void } {
  const made: FakeProducer[] = [];
  let createError: Error | null = null;
  return {
    made,
    create: () => {
      if (createError) {
        const err = createError;
        createError = null;
        return Promise.reject(err);
      }
      const p = new FakeProducer(made.length);
      made.push(p);
      return Promise.resolve(p);
    },
    failCreate: (err) => (createError = err),
  };
}

const msg = (value: string): OutgoingMessage[] => [{ key: 'k', value }];

describe('RenewingProducer', () => {
  it('keeps its producer while sends succeed', async () => {
    const f = factory();
    const p = new RenewingProducer(f.create, await f.create());
    await p.send('t', msg('a'));
    await p.send('t', msg('b'));
    expect(f.made).toHaveLength(1);
    expect(f.made[0]!.sent).toEqual(['a', 'b']);
  });

  it('after a failed send, closes that producer and sends the next batch through a new one', async () => {
    const f = factory();
    const p = new RenewingProducer(f.create, await f.create());
    await p.send('t', msg('a'));
    f.made[0]!.failNext = new Error('request timed out');
    await expect(p.send('t', msg('b'))).rejects.toThrow('request timed out');
    expect(f.made[0]!.closed).toBe(true);
    await p.send('t', msg('b'));
    await p.send('t', msg('c'));
    expect(f.made).toHaveLength(2);
    expect(f.made[0]!.sent).toEqual(['a']);
    expect(f.made[1]!.sent).toEqual(['b', 'c']);
    expect(f.made[1]!.closed).toBe(false);
  });

  it('a replacement that cannot be made fails that send only; the next send tries again', async () => {
    const f = factory();
    const p = new RenewingProducer(f.create, await f.create());
    f.made[0]!.failNext = new Error('broker gone');
    await expect(p.send('t', msg('a'))).rejects.toThrow('broker gone');
    f.failCreate(new Error('cannot connect'));
    await expect(p.send('t', msg('a'))).rejects.toThrow('cannot connect');
    await p.send('t', msg('a'));
    expect(f.made).toHaveLength(2);
    expect(f.made[1]!.sent).toEqual(['a']);
  });

  it('sends in flight when one fails fail with it, and the producer is replaced once', async () => {
    const f = factory();
    const p = new RenewingProducer(f.create, await f.create());
    const first = f.made[0]!;
    first.hold = true;
    const a = p.send('t', msg('a'));
    const b = p.send('t', msg('b')); // on the same producer while `a` is in flight
    await new Promise((r) => setImmediate(r));
    expect(first.held).toHaveLength(2);
    first.held[0]!.settle(new Error('not enough replicas'));
    await expect(a).rejects.toThrow('not enough replicas');
    await expect(b).rejects.toThrow('closed while sending');
    expect(first.closed).toBe(true);
    await p.send('t', msg('c'));
    expect(f.made).toHaveLength(2);
    expect(f.made[1]!.sent).toEqual(['c']);
  });

  it('creates the first producer at the first send when given none, and closes the current one on close', async () => {
    const f = factory();
    const p = new RenewingProducer(f.create);
    expect(f.made).toHaveLength(0);
    await p.send('t', []);
    expect(f.made).toHaveLength(0);
    await p.send('t', msg('a'));
    await p.close();
    expect(f.made[0]!.closed).toBe(true);
    await expect(p.send('t', msg('b'))).rejects.toThrow('after the producer was closed');
  });
});
