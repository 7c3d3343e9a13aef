/**
 * Applies a supervisor spec idempotently: creates it, updates it only when it changed (returning the
 * difference), and leaves a running supervisor alone when nothing changed — posting an unchanged spec
 * would still make Druid hand off and restart its tasks.
 *
 * How "changed" is decided: the Overlord answers GET with the spec plus every default it filled in, so
 * comparing with it directly would always see changes. The desired spec (canonical JSON) is therefore kept
 * in the supervisor's own `context` under CONTEXT_KEY and compared with the next desired spec. A supervisor
 * created elsewhere (no stored spec) is compared with the served spec cut down to our keys.
 */
import type { Logger } from 'pino';
import { DruidApiError, type DruidClient, type SupervisorStatus } from '@pipeline/druid';
import { canonicalJson, diffSpecs, projectOnto, type SpecChange } from './spec.diff';
import { InvalidSpecError, validateSupervisorSpec } from './spec.validation';
import type { SupervisorSpec } from './supervisor.spec-builder';

export const CONTEXT_KEY = 'pipelineDesiredSpec';

export type ApplyOutcome = 'created' | 'updated' | 'unchanged';

export interface ApplyResult {
  id: string;
  outcome: ApplyOutcome;
  changes: SpecChange[];
}

/** The spec without our bookkeeping context, as compared between applies. */
function withoutBookkeeping(spec: Record<string, unknown>): Record<string, unknown> {
  const { context, ...rest } = spec;
  if (context && typeof context === 'object') {
    const { [CONTEXT_KEY]: _stored, ...others } = context as Record<string, unknown>;
    if (Object.keys(others).length) return { ...rest, context: others };
  }
  return rest;
}

export function storedDesiredSpec(served: Record<string, unknown>): unknown {
  const context = served['context'];
  const stored = context && typeof context === 'object' ? (context as Record<string, unknown>)[CONTEXT_KEY] : undefined;
  if (typeof stored !== 'string') return undefined;
  try {
    return JSON.parse(stored);
  } catch {
    return undefined;
  }
}

/** What would change if `desired` replaced the served supervisor spec. */
export function changesAgainstServed(served: Record<string, unknown>, desired: SupervisorSpec): SpecChange[] {
  const want = withoutBookkeeping(desired as unknown as Record<string, unknown>);
  const stored = storedDesiredSpec(served);
  const have = stored !== undefined ? stored : projectOnto(withoutBookkeeping(served), want);
  return diffSpecs(JSON.parse(canonicalJson(have)), JSON.parse(canonicalJson(want)));
}

/**
 * Whether a failed apply must stop the start instead of being tried again: an invalid spec, or one Druid refused
 * (a 4xx, `retryable: false`), never becomes valid by waiting. Druid unreachable or answering 5xx is retried,
 * as is any other error (Druid may start later, or only with its profile).
 */
export function isFinalApplyError(err: unknown): boolean {
  return err instanceof InvalidSpecError || (err instanceof DruidApiError && !err.retryable);
}

export async function applySupervisor(client: DruidClient, desired: SupervisorSpec, log?: Logger): Promise<ApplyResult> {
  validateSupervisorSpec(desired);
  const id = desired.spec.dataSchema.dataSource;
  const want = withoutBookkeeping(desired as unknown as Record<string, unknown>);
  const toSubmit = {
    ...desired,
    context: { ...((want['context'] as Record<string, unknown> | undefined) ?? {}), [CONTEXT_KEY]: canonicalJson(want) },
  };
  const served = await client.getSupervisor(id);
  if (!served) {
    await client.postSupervisor(toSubmit);
    log?.info({ supervisor: id }, 'supervisor created');
    return { id, outcome: 'created', changes: [] };
  }
  const changes = changesAgainstServed(served, desired);
  if (changes.length === 0) {
    log?.info({ supervisor: id }, 'supervisor spec unchanged; nothing submitted');
    return { id, outcome: 'unchanged', changes };
  }
  await client.postSupervisor(toSubmit);
  log?.info({ supervisor: id, changes }, 'supervisor spec changed; updated');
  return { id, outcome: 'updated', changes };
}

export interface SupervisorHealth extends SupervisorStatus {
  /** One line for the operator. */
  summary: string;
}

export async function supervisorHealth(client: DruidClient, id: string): Promise<SupervisorHealth> {
  const s = await client.supervisorStatus(id);
  const lag = s.aggregateLag === null || s.aggregateLag === undefined ? 'unknown' : String(s.aggregateLag);
  const summary =
    `${id}: ${s.healthy ? 'healthy' : 'UNHEALTHY'}, state ${s.state} (${s.detailedState})${s.suspended ? ', suspended' : ''}, ` +
    `lag ${lag} records${s.recentErrors.length ? `, ${s.recentErrors.length} recent errors` : ''}`;
  return { ...s, summary };
}
