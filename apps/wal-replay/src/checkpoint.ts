/**
 * The local state file that makes a command resumable: per partition the next offset to read, plus what the
 * command needs to pick up where it stopped (its arguments, the consumer group, counters). Written after every
 * applied batch, atomically (temporary file + rename), so a kill at any time leaves the last good checkpoint.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface Checkpoint {
  command: string;
  /** What the run was asked (topic, target, start); a resume with other arguments starts over. */
  fingerprint: string;
  groupId: string;
  /** Phase of a multi-step command (migrate: snapshot, then wal). */
  phase: string;
  /** Next offset to read per partition, by phase. */
  positions: Record<string, Record<string, string>>;
  /** End offsets fixed at the first start, by phase: a resumed run stops where the first one meant to. */
  ends: Record<string, Record<string, string>>;
  counters: Record<string, number>;
  /** Free-form data of the command (e.g. migrate's snapshot cut). */
  data: Record<string, unknown>;
  done: boolean;
  updatedAt: string;
}

export class CheckpointFile {
  constructor(readonly path: string) {}

  /** The checkpoint of an unfinished run with the same fingerprint, or undefined (start over). */
  load(command: string, fingerprint: string): Checkpoint | undefined {
    if (!existsSync(this.path)) return undefined;
    const c = JSON.parse(readFileSync(this.path, 'utf8')) as Checkpoint;
    if (c.command !== command || c.fingerprint !== fingerprint || c.done) return undefined;
    return c;
  }

  save(c: Checkpoint): void {
    mkdirSync(dirname(this.path), { recursive: true });
    c.updatedAt = new Date().toISOString();
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, JSON.stringify(c, null, 2));
    renameSync(tmp, this.path);
  }
}

export const toOffsets = (m: Map<number, bigint>): Record<string, string> => Object.fromEntries([...m].map(([p, o]) => [String(p), o.toString()]));
export const fromOffsets = (r: Record<string, string> | undefined): Map<number, bigint> =>
  new Map(Object.entries(r ?? {}).map(([p, o]) => [Number(p), BigInt(o)]));
