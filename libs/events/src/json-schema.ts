import { z } from 'zod';
import { CdcRecordSchema } from './cdc.schema';
import { WalRecordSchema } from './wal.schema';
import { CdcVertexRecordSchema, WalVertexRecordSchema } from './vertex.schema';

type Node = Record<string, unknown>;

const SAFE_INT_BOUNDS = (n: Node): boolean =>
  n['type'] === 'integer' && n['minimum'] === Number.MIN_SAFE_INTEGER && n['maximum'] === Number.MAX_SAFE_INTEGER;
const INT64 = (n: Node): boolean => n['type'] === 'integer' && n['format'] === 'int64';

/** zod has no JSON Schema for a bigint: on the wire it is a 64-bit JSON integer. */
function bigint(ctx: { zodSchema: unknown; jsonSchema: Node }): void {
  if ((ctx.zodSchema as { _zod: { def: { type: string } } })._zod.def.type !== 'bigint') return;
  for (const k of Object.keys(ctx.jsonSchema)) delete ctx.jsonSchema[k];
  Object.assign(ctx.jsonSchema, { type: 'integer', format: 'int64' });
}

/**
 * LONGs (long.ts) are a number or a bigint in memory but one thing on the wire: a JSON integer of up to 64
 * bits. Every union holding both halves collapses to {type: integer, format: int64} (nested unions are
 * flattened first), so readers in other languages and the Elasticsearch mapping see one 64-bit integer.
 */
function collapseLongs(node: unknown): void {
  if (Array.isArray(node)) {
    node.forEach(collapseLongs);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const n = node as Node;
  for (const v of Object.values(n)) collapseLongs(v);
  if (!Array.isArray(n['anyOf'])) return;
  const flat = (n['anyOf'] as Node[]).flatMap((b) => (Array.isArray(b['anyOf']) && Object.keys(b).length === 1 ? (b['anyOf'] as Node[]) : [b]));
  if (!flat.some(INT64)) return;
  const kept = flat.filter((b) => !SAFE_INT_BOUNDS(b));
  if (kept.length === 1) {
    delete n['anyOf'];
    const { description } = n;
    Object.assign(n, kept[0], description === undefined ? {} : { description });
  } else {
    n['anyOf'] = kept;
  }
}

function toJsonSchema(schema: z.ZodType, title: string): Record<string, unknown> {
  // io 'input' describes what a reader must accept: without it zod emits additionalProperties:false,
  // which would make consumers in other languages reject records from a newer producer.
  const { $schema, ...rest } = z.toJSONSchema(schema, {
    io: 'input',
    target: 'draft-2020-12',
    // bigint has no JSON Schema of its own; `bigint` above writes the one it has on the wire.
    unrepresentable: 'any',
    override: (ctx) => bigint(ctx as unknown as { zodSchema: unknown; jsonSchema: Node }),
  });
  collapseLongs(rest);
  return { $schema, title, ...rest };
}

/**
 * JSON Schemas (draft 2020-12) of the native records, for consumers written in other languages. `wal` and
 * `cdc` are the edge records; vertex records (`type: "v"`, Actionbase v3) share the topics.
 */
export function toJsonSchemas(): {
  wal: Record<string, unknown>;
  cdc: Record<string, unknown>;
  walVertex: Record<string, unknown>;
  cdcVertex: Record<string, unknown>;
} {
  return {
    wal: toJsonSchema(WalRecordSchema, 'Actionbase WAL record, native format v3'),
    cdc: toJsonSchema(CdcRecordSchema, 'Actionbase CDC record, native format v3'),
    walVertex: toJsonSchema(WalVertexRecordSchema, 'Actionbase WAL record of a vertex, format v3'),
    cdcVertex: toJsonSchema(CdcVertexRecordSchema, 'Actionbase CDC record of a vertex, format v3'),
  };
}

/** File name -> content of the committed schema files (libs/events/json-schema/); one renderer for the script and the drift test. */
export function renderJsonSchemaFiles(): Record<string, string> {
  const { wal, cdc, walVertex, cdcVertex } = toJsonSchemas();
  const render = (s: Record<string, unknown>) => `${JSON.stringify(s, null, 2)}\n`;
  return {
    'wal.v3.schema.json': render(wal),
    'cdc.v3.schema.json': render(cdc),
    'wal-vertex.v3.schema.json': render(walVertex),
    'cdc-vertex.v3.schema.json': render(cdcVertex),
  };
}
