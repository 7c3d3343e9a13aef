/**
 * The difference between two specs, leaf by leaf, for the operator to read before (or instead of) an update.
 */
export interface SpecChange {
  /** JSON path of the changed value, e.g. `spec.dataSchema.granularitySpec.queryGranularity`. */
  path: string;
  kind: 'added' | 'removed' | 'changed';
  before?: unknown;
  after?: unknown;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** JSON with object keys sorted, so two equal specs serialise identically whatever their key order. */
export function canonicalJson(v: unknown): string {
  return JSON.stringify(sortKeys(v));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (isObject(v)) {
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .filter((k) => v[k] !== undefined)
        .map((k) => [k, sortKeys(v[k])]),
    );
  }
  return v;
}

/** Leaf-level differences from `before` to `after` (arrays compared by index). Empty when equal. */
export function diffSpecs(before: unknown, after: unknown, path = ''): SpecChange[] {
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((k) => {
      const p = path ? `${path}.${k}` : k;
      if (!(k in before) || before[k] === undefined) return after[k] === undefined ? [] : [{ path: p, kind: 'added' as const, after: after[k] }];
      if (!(k in after) || after[k] === undefined) return [{ path: p, kind: 'removed' as const, before: before[k] }];
      return diffSpecs(before[k], after[k], p);
    });
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    const n = Math.max(before.length, after.length);
    const out: SpecChange[] = [];
    for (let i = 0; i < n; i++) {
      const p = `${path}[${i}]`;
      if (i >= before.length) out.push({ path: p, kind: 'added', after: after[i] });
      else if (i >= after.length) out.push({ path: p, kind: 'removed', before: before[i] });
      else out.push(...diffSpecs(before[i], after[i], p));
    }
    return out;
  }
  return canonicalJson(before) === canonicalJson(after) ? [] : [{ path, kind: 'changed', before, after }];
}

/**
 * `served` cut down to the keys `desired` has, so Druid's defaults (fields the Overlord fills in) do not
 * count as changes. Used when a supervisor was created by someone else and carries no desired spec.
 */
export function projectOnto(served: unknown, desired: unknown): unknown {
  if (isObject(served) && isObject(desired)) {
    return Object.fromEntries(Object.keys(desired).filter((k) => k in served).map((k) => [k, projectOnto(served[k], desired[k])]));
  }
  if (Array.isArray(served) && Array.isArray(desired)) {
    return served.map((s, i) => (i < desired.length ? projectOnto(s, desired[i]) : s));
  }
  return served;
}

/** A diff as lines a person reads: `~ path: before -> after`, `+ path: value`, `- path: value`. */
export function formatChanges(changes: SpecChange[]): string {
  const show = (v: unknown) => JSON.stringify(v);
  return changes
    .map((c) =>
      c.kind === 'changed' ? `~ ${c.path}: ${show(c.before)} -> ${show(c.after)}` : c.kind === 'added' ? `+ ${c.path}: ${show(c.after)}` : `- ${c.path}: ${show(c.before)}`,
    )
    .join('\n');
}
