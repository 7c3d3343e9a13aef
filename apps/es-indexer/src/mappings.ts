/**
 * Elasticsearch mappings generated from the shared record schemas (libs/events toJsonSchemas), so a field added
 * to WAL or CDC changes the mapping in one place and the index never guesses types (dynamic: strict everywhere
 * except open property maps, which are kept in _source but not indexed: `enabled: false`).
 */
import { toJsonSchemas } from '@pipeline/events';

type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  additionalProperties?: unknown;
  anyOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
};

export type EsProperty = Record<string, unknown>;
export type EsProperties = Record<string, EsProperty>;

/** Epoch-millisecond fields of the records: mapped as dates so time ranges and date_histogram work. */
const DATE_FIELDS = new Set(['processedAt', 'lockAt']);

/** Maps one JSON Schema node; `name` picks date fields. Unknown shapes stay in _source only. */
export function mapNode(node: JsonSchema, name = ''): EsProperty {
  if (DATE_FIELDS.has(name)) return { type: 'date', format: 'epoch_millis' };
  if (node.anyOf) {
    const branches = node.anyOf.filter((b) => b.type !== 'null');
    // Ids are string | integer: one keyword field holds both ("42" and 42 match the same term).
    if (branches.length > 1) return { type: 'keyword', ignore_above: 1024 };
    if (branches[0]) return mapNode(branches[0], name);
  }
  const types = (Array.isArray(node.type) ? node.type : node.type ? [node.type] : []).filter((t) => t !== 'null');
  const type = types.length === 1 ? types[0] : types.length > 1 ? 'mixed' : undefined;
  switch (type) {
    case 'string':
      return { type: 'keyword' };
    case 'integer':
      return { type: 'long' };
    case 'number':
      // accumulator is number-typed but an enum of integers.
      return node.enum?.every((v) => Number.isInteger(v)) ? { type: 'byte' } : { type: 'double' };
    case 'boolean':
      return { type: 'boolean' };
    case 'object': {
      if (node.properties && Object.keys(node.properties).length > 0 && !node.additionalProperties) {
        return { type: 'object', dynamic: 'strict', properties: mapProperties(node.properties) };
      }
      // Open maps (properties of an edge, per-field cells): table-specific, so stored, not indexed.
      return { type: 'object', enabled: false };
    }
    case 'array':
      return mapArray(node as JsonSchema & { items?: JsonSchema });
    default:
      return { type: 'object', enabled: false };
  }
}

function mapArray(node: JsonSchema & { items?: JsonSchema }): EsProperty {
  // Elasticsearch has no array type: an array of objects maps as the object.
  return node.items ? mapNode(node.items) : { type: 'object', enabled: false };
}

export function mapProperties(props: Record<string, JsonSchema>): EsProperties {
  return Object.fromEntries(Object.entries(props).map(([k, v]) => [k, mapNode(v, k)]));
}

const keyword = { type: 'keyword' } as const;

/** The mutation log: one document per WAL record and per CDC record, the record kept whole under `wal` or `cdc`. */
export function mutationLogMappings(): Record<string, unknown> {
  const { wal, cdc } = toJsonSchemas() as { wal: JsonSchema; cdc: JsonSchema };
  return {
    dynamic: 'strict',
    properties: {
      docId: keyword,
      kind: keyword,
      '@timestamp': { type: 'date', format: 'epoch_millis' },
      tenant: keyword,
      database: keyword,
      table: keyword,
      // Search keys, exact: no ignore_above, so a key Lucene cannot hold as a term (over 32 KB) is rejected by
      // Elasticsearch and dead-lettered with its error instead of being indexed unfindable.
      source: keyword,
      target: keyword,
      edgeId: keyword,
      /** source and target: "every mutation by or about a user" is one term query. */
      parties: keyword,
      eventIds: keyword,
      requestIds: keyword,
      actor: keyword,
      type: keyword,
      status: keyword,
      seq: { type: 'long' },
      version: { type: 'long' },
      kafka: { type: 'object', dynamic: 'strict', properties: { topic: keyword, partition: { type: 'integer' }, offset: { type: 'long' } } },
      wal: mapNode(wal),
      cdc: mapNode(cdc),
    },
  };
}

/** The current state: one document per edge, the latest CDC `after` (soft tombstone when inactive). */
export function currentStateMappings(): Record<string, unknown> {
  const { cdc } = toJsonSchemas() as { cdc: JsonSchema };
  const state = cdc.properties?.['after'];
  if (!state) throw new Error('CDC schema has no `after`');
  return {
    dynamic: 'strict',
    properties: {
      docId: keyword,
      tenant: keyword,
      database: keyword,
      table: keyword,
      source: keyword,
      target: keyword,
      edgeId: keyword,
      parties: keyword,
      active: { type: 'boolean' },
      seq: { type: 'long' },
      status: keyword,
      updatedAt: { type: 'date', format: 'epoch_millis' },
      lastEventId: keyword,
      lastRequestId: keyword,
      state: mapNode(state),
    },
  };
}
