import { describe, it, expect } from '@jest/globals';
import { Writable } from 'node:stream';
import pino from 'pino';
import { ShadowSink } from './shadow.sink';
import { decoded } from './spec-helpers';

/** A pino logger whose JSON lines land in `lines`. */
function capture() {
  const lines: Record<string, any>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

describe('ShadowSink (the generated stub)', () => {
  it('logs each batch with its size, partitions and first/last coordinates, and takes every record', async () => {
    const { logger, lines } = capture();
    const sink = new ShadowSink(logger);
    await sink.start();
    const result = await sink.write([decoded(3, 1), decoded(4, 0), decoded(5, 1)]);
    expect(result).toBeUndefined(); // no `failed`: every record counts as written
    const batch = lines.find((l) => l.msg === 'batch received');
    expect(batch).toMatchObject({ batch: 1, records: 3, partitions: [0, 1], first: { partition: 1, offset: '3' }, last: { partition: 1, offset: '5' } });
  });

  it('counts batches and records up to the flush at shutdown, and ignores an empty batch', async () => {
    const { logger, lines } = capture();
    const sink = new ShadowSink(logger);
    await sink.write([decoded(1)]);
    await sink.write([]);
    await sink.write([decoded(2), decoded(3)]);
    await sink.flush();
    expect(lines.filter((l) => l.msg === 'batch received').map((l) => l.records)).toEqual([1, 2]);
    expect(lines.find((l) => l.msg === 'sink flushed')).toMatchObject({ batches: 2, records: 3 });
  });
});
