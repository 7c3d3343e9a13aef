/**
 * Exports the CDC records of a time range from the CDC topic into an NDJSON file that a native batch task
 * reads (backfill). A bounded read, not a long-running consumer: it reads every partition from the start
 * up to the end offsets taken when it began, under a throwaway group that commits nothing, so it neither
 * disturbs nor depends on any consumer group. Records are decoded with @pipeline/events (v3 and v2 both),
 * system records skipped, and written in the native v3 shape the spec's flattenSpec reads.
 */
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { decodeCdc, isSystemRecord, isVertexRecord, type DecodedCdc } from '@pipeline/events';
import type { KafkaClient } from '@pipeline/kafka';

export interface ExportResult {
  file: string;
  written: number;
  skipped: { outOfRange: number; system: number; undecodable: number; vertex: number };
}

export async function exportCdcRange(
  kafka: KafkaClient,
  opts: { topic: string; fromMs: number; toMs: number; file: string; timeoutMs?: number },
): Promise<ExportResult> {
  const admin = await kafka.admin();
  let ends: Map<number, bigint>;
  try {
    ends = await admin.endOffsets(opts.topic);
  } finally {
    await admin.close();
  }
  await mkdir(path.dirname(opts.file), { recursive: true });
  const out = createWriteStream(opts.file);
  const result: ExportResult = { file: opts.file, written: 0, skipped: { outOfRange: 0, system: 0, undecodable: 0, vertex: 0 } };
  const remaining = new Map([...ends].filter(([, end]) => end > 0n));
  if (remaining.size > 0) {
    const consumer = await kafka.consumer({ groupId: `druid-ingest-export-${Date.now().toString(36)}-${process.pid}`, topics: [opts.topic], fromBeginning: true });
    const timeout = setTimeout(() => void consumer.close(), opts.timeoutMs ?? 120_000);
    let failure: Error | undefined;
    await consumer.run(async (batch) => {
      const end = remaining.get(batch.partition);
      if (end === undefined) return;
      for (const m of batch.messages) {
        if (m.offset >= end) break;
        let rec: DecodedCdc;
        try {
          rec = decodeCdc(m.value?.toString('utf8') ?? 'null');
        } catch {
          result.skipped.undecodable++;
          continue;
        }
        // Vertex records: the datasource holds edges only.
        if (isVertexRecord(rec)) result.skipped.vertex++;
        else if (isSystemRecord(rec)) result.skipped.system++;
        else if (rec.processedAt < opts.fromMs || rec.processedAt >= opts.toMs) result.skipped.outOfRange++;
        else {
          if (!out.write(JSON.stringify(rec) + '\n')) await new Promise<void>((r) => out.once('drain', () => r()));
          result.written++;
        }
      }
      const last = batch.messages[batch.messages.length - 1];
      if (last && last.offset + 1n >= end) remaining.delete(batch.partition);
      if (remaining.size === 0) void consumer.close();
    });
    clearTimeout(timeout);
    if (remaining.size > 0) failure = new Error(`timed out reading ${opts.topic}: partitions ${[...remaining.keys()].join(', ')} not read to their end`);
    if (failure) {
      out.destroy();
      throw failure;
    }
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return result;
}
