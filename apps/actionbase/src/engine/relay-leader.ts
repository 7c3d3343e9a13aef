import type { Logger } from 'pino';
import type { CdcRelay } from '../publish/cdc-relay';
import type { EdgeStore, RelayLease } from '../storage/edge-store';

/** How often an instance that does not relay asks whether the leader is gone. */
export const RELAY_LEADER_RETRY_MS = 1_000;

/**
 * Runs the CDC relay on exactly one instance among those sharing the store: the one holding the
 * store's relay lease. The others try again every second; when the leader dies its lease goes with
 * its connection and one of them takes over, reading the outbox from its start. Its relay first reads
 * the end of every CDC partition back and skips the outbox rows the old leader published and had not yet
 * deleted (CdcRelay.resume), so they are not sent twice. With SQLite the only instance always leads.
 */
export class RelayLeader {
  private relay: CdcRelay | null = null;
  private lease: RelayLease | null = null;
  private stopped = false;
  private wakeStop: (() => void) | null = null;
  private loop: Promise<void> | null = null;
  private lastBacklog = 0;
  private lastParked = 0;

  constructor(
    private readonly store: EdgeStore,
    /** A fresh relay each time this instance becomes the leader. */
    private readonly makeRelay: () => CdcRelay,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.loop ??= this.run();
  }

  /** Whether this instance relays now. */
  get leading(): boolean {
    return this.relay !== null;
  }

  /** A commit of `records` CDC records: wake the relay if this instance runs it (the leader polls otherwise). */
  notify(records = 0): void {
    this.relay?.notify(records);
  }

  backlog(): number {
    return this.relay?.backlog() ?? this.lastBacklog;
  }

  get parked(): number {
    return this.lastParked + (this.relay?.parked ?? 0);
  }

  /** Stops relaying after sending what is committed (when leading) and gives the lease back. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeStop?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    const stopSignal = new Promise<'stop'>((r) => (this.wakeStop = () => r('stop')));
    while (!this.stopped) {
      let lease: RelayLease | null = null;
      try {
        lease = await this.store.tryLeadRelay();
      } catch (err) {
        this.log.warn({ err }, 'cannot ask for the relay lease; retrying');
      }
      if (!lease) {
        await Promise.race([stopSignal, new Promise((r) => setTimeout(r, RELAY_LEADER_RETRY_MS).unref())]);
        continue;
      }
      if (this.stopped) {
        await lease.release();
        break;
      }
      this.lease = lease;
      const relay = this.makeRelay();
      this.relay = relay;
      relay.start();
      if (this.store.kind !== 'sqlite') this.log.info('this instance leads: it relays the CDC outbox');
      const why = await Promise.race([stopSignal, lease.lost.then(() => 'lost' as const)]);
      this.relay = null;
      this.lastBacklog = relay.backlog();
      this.lastParked += relay.parked;
      if (why === 'stop') {
        await relay.stop(); // sends what was committed, as the lone relay did
        break;
      }
      this.log.warn('the relay lease was lost (its connection ended): this instance stops relaying; another takes over');
      await relay.stop(0);
      this.lease = null;
    }
    await this.lease?.release();
    this.lease = null;
  }
}
