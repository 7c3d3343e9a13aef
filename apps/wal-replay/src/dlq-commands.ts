/**
 * Dead letters made operable: `dlq list`, `dlq show <partition>:<offset>`, `dlq redrive [<partition>:<offset> ...]`
 * on a consumer group's `<group>.dlq` (libs/stream's format, read with its readDeadLetter).
 *
 * Redrive produces the original key, value and headers back to the record's source topic (or REDRIVE_TOPIC),
 * once the cause is fixed. The original coordinates travel along as `redrive.*` headers (the runtime drops
 * `dlq.*` headers when a record is dead-lettered again, ours stay), so a record that fails again still says
 * where it first came from. Every consumer of the source topic reads it again: our sinks are idempotent (CDC
 * by seq, WAL by event id), so only the group that had dropped it changes anything. Each redrive records the
 * DLQ offsets it produced in the state file, and a later run skips them: redriving twice is harmless but noisy.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { readDeadLetter, type DeadLetter } from '@pipeline/stream';
import type { ConsumedMessage, OutgoingMessage } from '@pipeline/kafka';
import type { Deps } from './commands';
import { readRange } from './topic-reader';

export const REDRIVE_HEADERS = {
  sourceTopic: 'redrive.source.topic',
  sourcePartition: 'redrive.source.partition',
  sourceOffset: 'redrive.source.offset',
  dlq: 'redrive.dlq',
  errorCode: 'redrive.error.code',
  at: 'redrive.at',
} as const;

export interface ListedDeadLetter {
  dlq: { partition: number; offset: string };
  source: { topic: string; partition: number; offset: string; timestamp: number };
  code: string;
  stage: string;
  message: string;
  group: string;
  kind: string;
  failedAt: string;
  key: string | null;
  redriven: boolean;
}

interface Entry {
  msg: ConsumedMessage;
  letter: DeadLetter;
}

const coords = (s: string): { partition: number; offset: bigint } => {
  const m = /^(\d+):(\d+)$/.exec(s);
  if (!m) throw new Error(`expected <partition>:<offset>, got ${JSON.stringify(s)}`);
  return { partition: Number(m[1]), offset: BigInt(m[2]!) };
};

function topicOf(deps: Deps): string {
  if (!deps.cfg.DLQ_TOPIC) throw new Error('DLQ_TOPIC (--dlq-topic) is required, e.g. --dlq-topic es-indexer.dlq');
  return deps.cfg.DLQ_TOPIC;
}

/** Every dead letter of the topic (as of its end now), optionally of one error code. */
async function readDlq(deps: Deps): Promise<{ entries: Entry[]; foreign: number }> {
  const topic = topicOf(deps);
  const admin = await deps.kafka.admin();
  let ends: Map<number, bigint>;
  try {
    if (!(await admin.listTopics()).includes(topic)) throw new Error(`topic ${topic} does not exist (is the group name right? the DLQ is <group>.dlq)`);
    ends = await admin.endOffsets(topic);
  } finally {
    await admin.close();
  }
  const entries: Entry[] = [];
  let foreign = 0;
  await readRange(
    deps.kafka,
    { topic, groupId: `wal-replay-dlq-${randomUUID()}`, from: new Map(), ends },
    async (_p, messages) => {
      for (const msg of messages) {
        const letter = readDeadLetter(msg);
        if (!letter) foreign++;
        else if (!deps.cfg.DLQ_CODE || letter.code === deps.cfg.DLQ_CODE) entries.push({ msg, letter });
      }
    },
    deps.logger,
  );
  entries.sort((a, b) => a.msg.partition - b.msg.partition || (a.msg.offset < b.msg.offset ? -1 : 1));
  return { entries, foreign };
}

/** The state file: DLQ coordinates already redriven, per DLQ topic. */
class RedriveLog {
  private readonly done: Set<string>;
  constructor(private readonly path: string) {
    this.done = new Set(existsSync(path) ? ((JSON.parse(readFileSync(path, 'utf8')) as { redriven?: string[] }).redriven ?? []) : []);
  }
  has(topic: string, m: ConsumedMessage): boolean {
    return this.done.has(`${topic}:${m.partition}:${m.offset}`);
  }
  add(topic: string, ms: ConsumedMessage[]): void {
    for (const m of ms) this.done.add(`${topic}:${m.partition}:${m.offset}`);
    mkdirSync(dirname(this.path), { recursive: true });
    writeFileSync(`${this.path}.tmp`, JSON.stringify({ redriven: [...this.done] }));
    renameSync(`${this.path}.tmp`, this.path);
  }
}

const logOf = (deps: Deps) => new RedriveLog(deps.cfg.STATE_FILE ?? '.data/wal-replay/dlq-redrive.state.json');

function listed(e: Entry, redriven: boolean): ListedDeadLetter {
  const l = e.letter;
  return {
    dlq: { partition: e.msg.partition, offset: e.msg.offset.toString() },
    source: { topic: l.source.topic, partition: l.source.partition, offset: l.source.offset.toString(), timestamp: l.source.timestamp },
    code: l.code,
    stage: l.stage,
    message: l.message,
    group: l.groupId,
    kind: l.kind,
    failedAt: l.failedAt,
    key: l.key === null ? null : l.key.toString('utf8'),
    redriven,
  };
}

export async function dlqList(deps: Deps): Promise<{ lines: ListedDeadLetter[]; total: number; byCode: Record<string, number>; foreign: number }> {
  const topic = topicOf(deps);
  const { entries, foreign } = await readDlq(deps);
  const log = logOf(deps);
  const byCode: Record<string, number> = {};
  for (const e of entries) byCode[e.letter.code] = (byCode[e.letter.code] ?? 0) + 1;
  return { lines: entries.slice(0, deps.cfg.DLQ_LIMIT).map((e) => listed(e, log.has(topic, e.msg))), total: entries.length, byCode, foreign };
}

export async function dlqShow(deps: Deps): Promise<ListedDeadLetter & { value: string | null; valueBase64?: string; headers: Record<string, string> }> {
  const topic = topicOf(deps);
  const at = deps.cfg.args[1];
  if (!at) throw new Error('dlq show needs <partition>:<offset> (from dlq list)');
  const { partition, offset } = coords(at);
  const { entries } = await readDlq(deps);
  const e = entries.find((x) => x.msg.partition === partition && x.msg.offset === offset);
  if (!e) throw new Error(`no dead letter at ${topic} ${partition}:${offset}${deps.cfg.DLQ_CODE ? ` with code ${deps.cfg.DLQ_CODE}` : ''}`);
  const v = e.letter.value;
  const text = v === null ? null : new TextDecoder('utf-8', { fatal: false }).decode(v);
  const headers = Object.fromEntries(Object.entries(e.letter.headers).map(([k, b]) => [k, b.toString('utf8')]));
  return { ...listed(e, logOf(deps).has(topic, e.msg)), value: text, ...(v !== null && !Buffer.from(text ?? '', 'utf8').equals(v) ? { valueBase64: v.toString('base64') } : {}), headers };
}

export interface RedriveResult {
  redriven: number;
  skippedAlreadyRedriven: number;
  skippedNullValue: number;
  byTopic: Record<string, number>;
  dryRun: boolean;
}

export async function dlqRedrive(deps: Deps): Promise<RedriveResult> {
  const { cfg, logger } = deps;
  const topic = topicOf(deps);
  const picked = cfg.args.slice(1).map(coords);
  const { entries } = await readDlq(deps);
  const log = logOf(deps);
  const result: RedriveResult = { redriven: 0, skippedAlreadyRedriven: 0, skippedNullValue: 0, byTopic: {}, dryRun: cfg.DRY_RUN };
  const chosen = picked.length ? entries.filter((e) => picked.some((p) => p.partition === e.msg.partition && p.offset === e.msg.offset)) : entries;
  if (picked.length && chosen.length !== picked.length) throw new Error(`only ${chosen.length} of the ${picked.length} coordinates given are dead letters of ${topic}${cfg.DLQ_CODE ? ` with code ${cfg.DLQ_CODE}` : ''}; nothing redriven`);
  const byTarget = new Map<string, { out: OutgoingMessage[]; from: ConsumedMessage[] }>();
  const at = new Date().toISOString();
  for (const e of chosen) {
    if (log.has(topic, e.msg)) {
      result.skippedAlreadyRedriven++;
      continue;
    }
    const l = e.letter;
    if (l.value === null) {
      // A null value (a tombstone) has nothing a consumer can apply; it stays in the DLQ for a person to look at.
      result.skippedNullValue++;
      continue;
    }
    const target = cfg.REDRIVE_TOPIC ?? l.source.topic;
    const headers: Record<string, string> = Object.fromEntries(Object.entries(l.headers).filter(([k]) => !k.startsWith('redrive.')).map(([k, b]) => [k, b.toString('utf8')]));
    Object.assign(headers, {
      [REDRIVE_HEADERS.sourceTopic]: l.source.topic,
      [REDRIVE_HEADERS.sourcePartition]: String(l.source.partition),
      [REDRIVE_HEADERS.sourceOffset]: l.source.offset.toString(),
      [REDRIVE_HEADERS.dlq]: `${topic}:${e.msg.partition}:${e.msg.offset}`,
      [REDRIVE_HEADERS.errorCode]: l.code,
      [REDRIVE_HEADERS.at]: at,
    });
    let slot = byTarget.get(target);
    if (!slot) byTarget.set(target, (slot = { out: [], from: [] }));
    // The original key keeps the record in its key's partition, behind the records of that key already there.
    slot.out.push({ key: l.key === null ? null : l.key.toString('utf8'), value: l.value, headers });
    slot.from.push(e.msg);
  }
  if (cfg.DRY_RUN) {
    for (const [t, s] of byTarget) result.byTopic[t] = s.out.length;
    result.redriven = 0;
    return result;
  }
  const producer = await deps.kafka.producer();
  try {
    for (const [t, s] of byTarget) {
      await producer.send(t, s.out);
      log.add(topic, s.from);
      result.byTopic[t] = s.out.length;
      result.redriven += s.out.length;
      logger.info({ topic: t, records: s.out.length }, 'dead letters produced back');
    }
  } finally {
    await producer.close();
  }
  return result;
}
