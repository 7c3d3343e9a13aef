import { constants } from 'node:os';
import type { Logger } from 'pino';

export interface SignalOptions {
  logger: Logger;
  /** Default SIGTERM and SIGINT. */
  signals?: NodeJS.Signals[];
  /** Default process.exit; tests pass their own. */
  exit?: (code: number) => void;
  /**
   * Exit when the consumer is done: 0 after a clean stop, 1 when it failed, could not start or could not drain.
   * Default true, so an app's main is: start, installSignalHandlers, nothing else.
   */
  exitWhenDone?: boolean;
}

/**
 * First signal: a graceful stop (drain, flush, commit, leave the group). A second signal while that runs exits
 * at once with 128 + the signal number: the operator's way out when the sink hangs the drain; offsets of
 * records not written were never committed, so they come again on the next start.
 * Returns a function that removes the handlers.
 */
export function installSignalHandlers(consumer: { stop(): Promise<void>; done: Promise<void> }, opts: SignalOptions): () => void {
  const signals = opts.signals ?? ['SIGTERM', 'SIGINT'];
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  const log = opts.logger.child({ component: 'stream.signals' });
  let received: NodeJS.Signals | undefined;
  let exited = false;
  const exitOnce = (code: number) => {
    if (exited) return;
    exited = true;
    exit(code);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (received) {
      log.warn({ signal, first: received }, 'second signal: exiting without finishing the drain');
      exitOnce(128 + (constants.signals[signal] ?? 1));
      return;
    }
    received = signal;
    log.info({ signal }, 'signal received: stopping gracefully (send it again to force exit)');
    // The outcome reaches `done`, which exits below (or the caller's own handling when exitWhenDone is false).
    consumer.stop().catch(() => undefined);
  };
  for (const s of signals) process.on(s, onSignal);
  if (opts.exitWhenDone !== false) {
    consumer.done.then(
      () => exitOnce(0),
      () => exitOnce(1),
    );
  }
  return () => {
    for (const s of signals) process.off(s, onSignal);
  };
}
