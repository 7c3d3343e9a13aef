import { describe, it, expect, afterEach } from '@jest/globals';
import pino from 'pino';
import { installSignalHandlers } from './signals';

const silent = pino({ level: 'silent' });
// A signal jest itself does not use; emitted in-process, never sent.
const SIGNAL = 'SIGUSR2' as const;

function fakeConsumer(stopOutcome: 'ok' | 'fail' | 'hang') {
  let settle!: { resolve: () => void; reject: (e: unknown) => void };
  const done = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  done.catch(() => undefined);
  let stops = 0;
  return {
    done,
    stops: () => stops,
    stop: async () => {
      stops++;
      if (stopOutcome === 'ok') settle.resolve();
      if (stopOutcome === 'fail') settle.reject(new Error('drain timed out'));
      return done;
    },
  };
}

let uninstall: (() => void) | undefined;
afterEach(() => uninstall?.());

const tick = () => new Promise((r) => setImmediate(r));

describe('installSignalHandlers', () => {
  it('a signal stops the consumer gracefully and exits 0 when it stopped cleanly', async () => {
    const c = fakeConsumer('ok');
    const exits: number[] = [];
    uninstall = installSignalHandlers(c, { logger: silent, signals: [SIGNAL], exit: (code) => exits.push(code) });
    process.emit(SIGNAL, SIGNAL);
    await tick();
    expect(c.stops()).toBe(1);
    expect(exits).toEqual([0]);
  });

  it('exits 1 when the stop could not drain', async () => {
    const c = fakeConsumer('fail');
    const exits: number[] = [];
    uninstall = installSignalHandlers(c, { logger: silent, signals: [SIGNAL], exit: (code) => exits.push(code) });
    process.emit(SIGNAL, SIGNAL);
    await tick();
    expect(exits).toEqual([1]);
  });

  it('a second signal exits at once, non-zero, without waiting for the drain', async () => {
    const c = fakeConsumer('hang');
    const exits: number[] = [];
    uninstall = installSignalHandlers(c, { logger: silent, signals: [SIGNAL], exit: (code) => exits.push(code) });
    process.emit(SIGNAL, SIGNAL);
    await tick();
    expect(exits).toEqual([]);
    process.emit(SIGNAL, SIGNAL);
    expect(exits).toEqual([128 + 12]); // SIGUSR2 is 12 on Linux
    expect(c.stops()).toBe(1);
  });
});
