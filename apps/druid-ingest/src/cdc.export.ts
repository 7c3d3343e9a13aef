/**
 * Exports the CDC records of a time range from the CDC topic into an NDJSON file that a native batch task
 * reads (backfill). A bounded read, not a long-running consumer (libs/kafka's readRange): every partition
 * from the first record stamped near `fromMs` up to the end offsets taken when it began, without a consumer
 * group, so it neither disturbs nor depends on any. Records are decoded with @pipeline/events (v3 and v2 both),
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

/**
 * How far before `fromMs` the read starts, by record timestamp. A CDC record is stamped when it is published,
 * after its processedAt on the core that committed it; the margin covers the clocks of several core hosts
 * disagreeing. Records before the seek point are older than anything the range can hold.
 */
export const SEEK_MARGIN_MS = 15 * 60_000;

export async function exportCdcRange(
  kafka: KafkaClient,
  opts: { topic: string; fromMs: number; toMs: number; file: string; timeoutMs?: number },
): Promise<ExportResult> {
  await mkdir(path.dirname(opts.file), { recursive: true });
  const out = createWriteStream(opts.file);
  const result: ExportResult = { file: opts.file, written: 0, skipped: { outOfRange: 0, system: 0, undecodable: 0, vertex: 0 } };
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    // Up to the end offsets as the read starts: what is written meanwhile is after the range anyway.
    for await (const batch of kafka.readRange({ topic: opts.topic, from: { time: opts.fromMs - SEEK_MARGIN_MS }, signal })) {
      for (const m of batch.messages) {
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
    }
  } catch (err) {
    out.destroy();
    if (signal.aborted) throw new Error(`timed out after ${timeoutMs} ms reading ${opts.topic} to its end offsets (raise the timeout, or check the broker)`, { cause: err });
    throw err;
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return result;
}
