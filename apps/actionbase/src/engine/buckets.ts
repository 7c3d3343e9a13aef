import { badRequest } from '../errors';

/**
 * Actionbase's group field buckets (core/metadata/common/Bucket): `{"type": "date", "name", "unit",
 * "timezone", "format"}` turns a time value into the text of its period in a time zone, e.g.
 * 1704067200000 → "2024-01-01" with format `yyyy-MM-dd`. A query names the bucket by `name` and gives
 * either that text or `now`, `now-7d`, `now+2h`, `now-30m`.
 */
export interface DateBucket {
  type: 'date';
  name: string;
  unit: 'NANOSECOND' | 'MICROSECOND' | 'MILLISECOND' | 'SECOND';
  timezone: string;
  format: string;
}

/** Checks a bucket as declared in a schema; null when the field has none. */
export function bucketOf(raw: unknown, field: string): DateBucket | null {
  if (raw === undefined || raw === null) return null;
  const b = raw as Partial<DateBucket>;
  if (typeof b !== 'object' || b.type !== 'date') throw badRequest(field, 'only date buckets exist: {"type": "date", "name", "unit", "timezone", "format"}');
  if (typeof b.name !== 'string' || typeof b.format !== 'string' || typeof b.timezone !== 'string') throw badRequest(field, 'a date bucket needs name, timezone and format');
  if (!['NANOSECOND', 'MICROSECOND', 'MILLISECOND', 'SECOND'].includes(b.unit as string)) throw badRequest(field, 'unit: NANOSECOND, MICROSECOND, MILLISECOND or SECOND');
  return b as DateBucket;
}

const MS_PER: Record<DateBucket['unit'], (v: bigint) => number> = {
  NANOSECOND: (v) => Number(v / 1_000_000n),
  MICROSECOND: (v) => Number(v / 1_000n),
  MILLISECOND: (v) => Number(v),
  SECOND: (v) => Number(v * 1_000n),
};

/** The pattern letters of Java's DateTimeFormatter that a period format uses. */
const TOKENS: [RegExp, (p: Record<string, string>) => string][] = [
  [/^yyyy/, (p) => p.year!],
  [/^yy/, (p) => p.year!.slice(-2)],
  [/^MM/, (p) => p.month!],
  [/^dd/, (p) => p.day!],
  [/^HH/, (p) => p.hour!],
  [/^mm/, (p) => p.minute!],
  [/^ss/, (p) => p.second!],
];

const formatters = new Map<string, Intl.DateTimeFormat>();

/** `ms` as the bucket's period text (Java DateTimeFormatter letters yyyy yy MM dd HH mm ss, quoted literals). */
export function formatPeriod(b: DateBucket, ms: number): string {
  let f = formatters.get(b.timezone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone: b.timezone,
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
        hourCycle: 'h23',
      });
    } catch {
      throw badRequest('timezone', `unknown time zone ${JSON.stringify(b.timezone)} of bucket ${b.name}`);
    }
    formatters.set(b.timezone, f);
  }
  const parts: Record<string, string> = {};
  for (const p of f.formatToParts(new Date(ms))) parts[p.type] = p.value;
  let out = '';
  let rest = b.format;
  while (rest.length) {
    if (rest[0] === "'") {
      const end = rest.indexOf("'", 1);
      out += end < 0 ? rest.slice(1) : rest.slice(1, end);
      rest = end < 0 ? '' : rest.slice(end + 1);
      continue;
    }
    const t = TOKENS.find(([re]) => re.test(rest));
    if (t) {
      out += t[1](parts);
      rest = rest.replace(t[0], '');
    } else {
      out += rest[0];
      rest = rest.slice(1);
    }
  }
  return out;
}

/** What a group record holds for a value: its period text; null when the value is absent or not a time. */
export function applyBucket(b: DateBucket, value: unknown): string | null {
  if (value === null || value === undefined) return null;
  let v: bigint;
  try {
    v = BigInt(value as number | bigint | string);
  } catch {
    return null;
  }
  return formatPeriod(b, MS_PER[b.unit](v));
}

const RELATIVE = /^now(?:([+-])(\d+)([mhd]))?$/;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * A query value for a bucketed field: `now` or `now±N(m|h|d)` becomes the period text of that moment
 * (with `ceil`, of the moment rounded up to the format's precision, as the upper end of a between);
 * any other text is taken as a period text already.
 */
export function queryPeriod(b: DateBucket, value: string, ceil: boolean, now: number = Date.now()): string {
  const m = RELATIVE.exec(value.trim());
  if (!m) return value;
  let at = ceil ? ceilToFormat(b, now) : now;
  if (m[1]) at += (m[1] === '+' ? 1 : -1) * Number(m[2]) * UNIT_MS[m[3] as keyof typeof UNIT_MS];
  return formatPeriod(b, at);
}

/** Rounds up to the next period boundary of the format's finest field (minutes, hours or days). */
function ceilToFormat(b: DateBucket, ms: number): number {
  if (b.format.includes('S') || b.format.includes('ss')) throw badRequest('ranges', `bucket ${b.name}: units below minutes are not supported in a relative query`);
  const step = b.format.includes('mm') ? UNIT_MS.m : b.format.includes('H') ? UNIT_MS.h : UNIT_MS.d;
  // Period boundaries are in the bucket's zone (whose offset may be any number of minutes): walk back
  // minute by minute to the start of `ms`'s period (at most a day of steps), then step once.
  const text = formatPeriod(b, ms);
  let start = ms - (ms % UNIT_MS.m);
  while (start - UNIT_MS.m > ms - step - UNIT_MS.m && formatPeriod(b, start - UNIT_MS.m) === text) start -= UNIT_MS.m;
  return start === ms ? ms : start + step;
}
