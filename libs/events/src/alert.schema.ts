import { z } from 'zod';

export const AlertRuleSchema = z.enum(['burst', 'flapping', 'fan-out', 'target-spike']);
export type AlertRule = z.infer<typeof AlertRuleSchema>;

export const AlertSubjectKindSchema = z.enum(['actor', 'source', 'edge', 'target']);
export type AlertSubjectKind = z.infer<typeof AlertSubjectKindSchema>;

/**
 * An abuse alert (topic `actionbase.alerts`), written by apps/abuse-detector. Every field but `emittedAt` follows
 * from the CDC records alone (event-time windows), so reprocessing the same records gives the same alert with the
 * same `alertId`: consumers deduplicate on it (delivery is at least once).
 */
export const AlertRecordSchema = z
  .object({
    version: z.literal('1').describe('Alert format version'),
    alertId: z
      .string()
      .min(1)
      .describe('Deterministic id `<rule name>:<database>.<table>:<subject kind>:<subject id>:<window start>`; the same alert always has the same id'),
    rule: AlertRuleSchema.describe('Which rule fired: burst (N mutations within T), flapping (insert/delete toggles on one edge), fan-out (one source, many targets), target-spike (IN-count growth against its own baseline)'),
    ruleName: z.string().min(1).describe('Name of the rule in the rules file (a table may have several rules of one kind)'),
    database: z.string().min(1),
    table: z.string().min(1),
    subject: z
      .object({
        kind: AlertSubjectKindSchema.describe('actor (X-Actor-ID), source, edge (source→target) or target'),
        id: z.string().describe('The actor, source or target; for an edge `source:target`'),
      })
      .describe('What the rule counted on'),
    users: z.array(z.string()).min(1).describe('The users the alert concerns (actor, source or target), for the support lookup'),
    windowStart: z.number().int().nonnegative().describe('Event-time window start (epoch ms, inclusive), from the CDC processedAt'),
    windowEnd: z.number().int().nonnegative().describe('Event-time window end (epoch ms, exclusive)'),
    observed: z.number().describe('What was counted in the window when the rule fired (mutations, toggles, distinct targets, IN-count growth)'),
    threshold: z.number().describe('The limit the observation reached'),
    baseline: z
      .object({
        mean: z.number().describe('EWMA of the growth per window before this one'),
        stddev: z.number().describe('EWMA standard deviation'),
        zScore: z.number().describe('(observed - mean) / max(stddev, minStddev)'),
      })
      .optional()
      .describe('target-spike only: the baseline the window was compared with'),
    emittedAt: z.number().int().nonnegative().describe('When the detector emitted it (wall clock, epoch ms); the only field that differs on a reprocessing'),
  })
  .describe('Abuse alert: a rule of apps/abuse-detector fired on the CDC of one table');

export type AlertRecord = z.infer<typeof AlertRecordSchema>;
