import type { CdcRecord } from './cdc.schema';
import type { WalRecord } from './wal.schema';

/**
 * Kafka message key of an edge: `"source:target"`, sent as UTF-8 (docs/records.md, "Kafka"). Same key, same
 * partition, so one edge's records stay in order. For multi-edges pass `_source`/`_target`, as
 * Actionbase does. The key is for partitioning only: a ':' inside an id makes it ambiguous, so never parse it
 * back; read source and target from the record.
 */
export function kafkaKey(source: string | number | bigint, target: string | number | bigint): string {
  return `${source}:${target}`;
}

export function keyOfWal(record: WalRecord): string {
  return kafkaKey(record.event.source, record.event.target);
}

/** From the state (after, else before), else the last event: the state is where the edge ended up. */
export function keyOfCdc(record: CdcRecord): string {
  const state = record.after ?? record.before;
  if (state) return kafkaKey(state.source, state.target);
  const last = record.events[record.events.length - 1];
  // The schema requires at least one event; this only trips on a record built around it.
  if (!last) throw new TypeError('keyOfCdc: CDC record has no state and no events');
  return kafkaKey(last.source, last.target);
}
