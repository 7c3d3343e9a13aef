/**
 * The support lookup from a terminal, through the lookup API (authenticated, audited):
 *
 *   LOOKUP_TOKEN=... npx tsx apps/es-indexer/src/lookup.cli.ts user <user> [--from <iso|ms>] [--to <iso|ms>] [--table t]
 *   LOOKUP_TOKEN=... npx tsx apps/es-indexer/src/lookup.cli.ts edge <table> <source> <target> [--database db]
 *   LOOKUP_TOKEN=... npx tsx apps/es-indexer/src/lookup.cli.ts request <requestId>
 *   LOOKUP_TOKEN=... npx tsx apps/es-indexer/src/lookup.cli.ts event <eventId>
 *   LOOKUP_TOKEN=... npx tsx apps/es-indexer/src/lookup.cli.ts state <table> <source> <target>
 *
 * Prints one JSON object per line and follows the pages (search_after cursors) to the end, or --limit items.
 */
import { parseArgs } from 'node:util';
import { loadCliConfig } from './config';
import { parseJson, stringifyJson } from '@pipeline/events';

const USAGE = 'usage: lookup.cli.ts <user USER | edge TABLE SOURCE TARGET | request ID | event ID | state TABLE SOURCE TARGET> [--from] [--to] [--table] [--database] [--limit N]';

export function lookupPath(args: string[], opts: { from?: string; to?: string; table?: string; database?: string }): string {
  const [cmd, ...rest] = args;
  const q = (o: Record<string, string | undefined>) =>
    new URLSearchParams(Object.entries(o).filter((e): e is [string, string] => e[1] !== undefined)).toString();
  switch (cmd) {
    case 'user':
      if (rest.length !== 1) break;
      return `/api/users/${encodeURIComponent(rest[0]!)}/mutations?${q({ from: opts.from, to: opts.to, table: opts.table, size: '200' })}`;
    case 'edge':
    case 'state':
      if (rest.length !== 3) break;
      return `/api/edges/${cmd === 'edge' ? 'history' : 'state'}?${q({ table: rest[0], source: rest[1], target: rest[2], database: opts.database, ...(cmd === 'edge' ? { size: '200' } : {}) })}`;
    case 'request':
    case 'event':
      if (rest.length !== 1) break;
      return `/api/${cmd}s/${encodeURIComponent(rest[0]!)}?size=200`;
  }
  throw new Error(USAGE);
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { from: { type: 'string' }, to: { type: 'string' }, table: { type: 'string' }, database: { type: 'string' }, limit: { type: 'string' } },
  });
  let path: string;
  try {
    path = lookupPath(positionals, values);
  } catch (err) {
    console.error((err as Error).message);
    return 2;
  }
  const config = loadCliConfig();
  const limit = values.limit ? Number(values.limit) : Infinity;
  let printed = 0;
  let cursor: string | null = null;
  do {
    const url = `${config.LOOKUP_URL}${path}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const res = await fetch(url, { headers: { authorization: `Bearer ${config.LOOKUP_TOKEN}` } });
    const body = (await res.text().then(parseJson).catch(() => ({}))) as { items?: unknown[]; next?: string | null; state?: unknown; message?: string };
    if (!res.ok) {
      console.error(`lookup failed: ${res.status} ${body.message ?? ''}`);
      return res.status === 401 ? 3 : 1;
    }
    if (!body.items) {
      console.log(stringifyJson(body.state ?? null));
      return 0;
    }
    for (const item of body.items) {
      if (printed >= limit) return 0;
      console.log(stringifyJson(item));
      printed++;
    }
    cursor = body.next ?? null;
  } while (cursor);
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
