/**
 * The rules file: which patterns count as abuse, per table. Validated with zod at start; a bad file stops the
 * app with every bad field named by its path. Windows are tumbling windows of event time (the CDC `processedAt`),
 * so the same records always give the same alerts, whatever the batching, the order across partitions or a
 * restart in between.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { PipelineError } from '@pipeline/errors';

const name = z.string().regex(/^[a-zA-Z][a-zA-Z0-9_-]{0,63}$/, 'a name: a letter, then letters, digits, _ or -');
const windowMs = z.number().int().min(100).max(86_400_000).describe('Tumbling window length (ms of event time)');

export const BurstRuleSchema = z
  .object({
    name,
    by: z.enum(['actor', 'source']).describe('actor: the X-Actor-ID of the request; source: the edge source'),
    limit: z.number().int().min(2).describe('Alert when this many mutations fall into one window'),
    windowMs,
  })
  .strict();

export const FlappingRuleSchema = z
  .object({
    name,
    toggles: z.number().int().min(2).describe('Alert when one edge changes between active and deleted this many times in one window'),
    windowMs,
  })
  .strict();

export const FanOutRuleSchema = z
  .object({
    name,
    targets: z.number().int().min(2).max(100_000).describe('Alert when one source touches this many distinct targets in one window'),
    windowMs,
  })
  .strict();

export const TargetSpikeRuleSchema = z
  .object({
    name,
    bucketMs: windowMs,
    alpha: z.number().gt(0).lt(1).default(0.3).describe('EWMA weight of the newest bucket'),
    zScore: z.number().positive().default(4).describe('Alert when (growth - mean) / stddev reaches this'),
    minGrowth: z.number().int().min(1).describe('... and the IN-count grew by at least this much in the bucket'),
    minStddev: z.number().positive().default(1).describe('Floor of the stddev, so a flat history does not make every +1 a spike'),
  })
  .strict();

export const TableRulesSchema = z
  .object({
    burst: z.array(BurstRuleSchema).default([]),
    flapping: z.array(FlappingRuleSchema).default([]),
    fanOut: z.array(FanOutRuleSchema).default([]),
    targetSpike: z.array(TargetSpikeRuleSchema).default([]),
  })
  .strict();

export const RulesFileSchema = z
  .object({
    tables: z
      .record(z.string().regex(/^(\*|[^.\s]+\.[^.\s]+)$/, '`<database>.<table>` or `*` (every table without rules of its own)'), TableRulesSchema)
      .refine((t) => Object.keys(t).length > 0, 'at least one table'),
  })
  .strict()
  .superRefine((file, ctx) => {
    for (const [table, rules] of Object.entries(file.tables)) {
      const names = [...rules.burst, ...rules.flapping, ...rules.fanOut, ...rules.targetSpike].map((r) => r.name);
      const dup = names.find((n, i) => names.indexOf(n) !== i);
      if (dup) ctx.addIssue({ code: 'custom', path: ['tables', table], message: `rule name "${dup}" is used twice; alert ids need unique names per table` });
    }
  });

export type BurstRule = z.output<typeof BurstRuleSchema>;
export type FlappingRule = z.output<typeof FlappingRuleSchema>;
export type FanOutRule = z.output<typeof FanOutRuleSchema>;
export type TargetSpikeRule = z.output<typeof TargetSpikeRuleSchema>;
export type TableRules = z.output<typeof TableRulesSchema>;
export type RulesFile = z.output<typeof RulesFileSchema>;

/** The rules file cannot be read, is not JSON, or breaks the schema: fixed by editing it, never by waiting. */
export class RulesError extends PipelineError {
  override readonly name = 'RulesError';
  override readonly code = 'INVALID_RULES' as const;
  override readonly retryable = false as const;

  constructor(message: string, cause?: unknown) {
    super('INVALID_RULES', message, { retryable: false, cause });
  }
}

export function parseRules(input: unknown, origin = 'rules'): RulesFile {
  const r = RulesFileSchema.safeParse(input);
  if (r.success) return r.data;
  const lines = r.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
  throw new RulesError(`${origin} is not a valid rules file; fix these fields:\n${lines.join('\n')}`);
}

export function loadRulesFile(path: string): RulesFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new RulesError(`cannot read the rules file ${path} (RULES_FILE): ${(err as Error).message}`, err);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new RulesError(`the rules file ${path} is not JSON: ${(err as Error).message}`, err);
  }
  return parseRules(json, path);
}

/** The rules of a table: its own entry, else the `*` entry, else none. */
export function rulesFor(file: RulesFile, database: string, table: string): TableRules | undefined {
  return file.tables[`${database}.${table}`] ?? file.tables['*'];
}
