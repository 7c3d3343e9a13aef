import { z } from 'zod';
import { badRequest, formatPath, type ApiError } from '../errors';
import {
  FIELD_TYPES,
  fieldTypeOf,
  KEY_TYPES,
  MODES,
  PRIMITIVE_TYPES,
  primitiveOf,
  type AliasDef,
  type Audit,
  type CacheDef,
  type DatabaseDef,
  type FieldDef,
  type GroupDef,
  type MutationMode,
  type TableDef,
} from './model';
import { NAME_PATTERN, NAME_RULE } from './names';

/**
 * Request and response bodies of the schema APIs. v3 speaks Actionbase's metadata API (TableCreateRequest,
 * TableDescriptor...); v2 (service/label/alias) is what older Actionbase tools use. Both map onto the one
 * internal model of ./model.ts. Every object is strict: an unknown field is a 400 naming it, never
 * silently dropped.
 */

/** Parses `body` or throws a 400 naming the first bad field (`schema.indexes[0].fields[1].order`). */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const r = schema.safeParse(body ?? {});
  if (!r.success) throw zodError(r.error);
  return r.data;
}

export function zodError(error: z.ZodError): ApiError {
  const issue = error.issues[0];
  if (!issue) return badRequest('body', 'invalid');
  if (issue.code === 'unrecognized_keys') {
    const field = formatPath('', [...issue.path, issue.keys[0]!]);
    return badRequest(field, 'unknown field; remove it (see the metadata API reference for the accepted fields)');
  }
  const field = formatPath('', issue.path);
  if (issue.code === 'invalid_type' && issue.input === undefined) return badRequest(field, 'required');
  return badRequest(field, issue.message);
}

const name = (what: string) => z.string({ error: `${what} is required` }).regex(NAME_PATTERN, `${what} ${NAME_RULE}`);
const comment = z.string().max(1000, 'comment must be at most 1000 characters');
const order = z.enum(['ASC', 'DESC'], { error: (i) => `expected ASC or DESC, got ${JSON.stringify(i.input)}` });
const direction = z.enum(['BOTH', 'OUT', 'IN'], { error: (i) => `expected BOTH, OUT or IN, got ${JSON.stringify(i.input)}` });
const primitive = z.enum(PRIMITIVE_TYPES, {
  error: (i) => `unknown type ${JSON.stringify(i.input)}; one of ${PRIMITIVE_TYPES.join(', ')} (lowercase)`,
});
const keyPrimitive = z.enum(['string', 'long'], {
  error: (i) => `unsupported key type ${JSON.stringify(i.input)}; a source or target is string or long`,
});

// ---- v3 (Actionbase) -----------------------------------------------------------------------------

const V3Mode = z.enum(['SYNC', 'ASYNC', 'DROP', 'DENY'], { error: (i) => `expected SYNC, ASYNC, DROP or DENY, got ${JSON.stringify(i.input)}` });
type V3Mode = z.infer<typeof V3Mode>;

const V3KeyField = z.strictObject({ type: keyPrimitive, comment: comment });
const V3StructField = z.strictObject({ name: z.string().min(1, 'required'), type: primitive, comment: comment, nullable: z.boolean() });
const V3IndexField = z.strictObject({ field: z.string().min(1, 'required'), order });
const V3Index = z.strictObject({
  index: name('index'),
  fields: z.array(V3IndexField).min(1, 'an index orders by at least one field'),
  comment: comment.default(''),
  primary: z.number().int().default(-1),
  batch: z.number().int().default(0),
});
const GROUP_DEFAULT_TTL = 8 * 24 * 60 * 60 * 1000;
const V3Group = z.strictObject({
  group: name('group'),
  type: z.enum(['SUM', 'COUNT']),
  fields: z.array(z.strictObject({ name: z.string().min(1), bucket: z.unknown().optional() })),
  valueField: z.string().default('-'),
  comment: comment.default(''),
  directionType: direction.default('BOTH'),
  ttl: z.number().int().default(GROUP_DEFAULT_TTL),
});
const V3Cache = z.strictObject({
  cache: name('cache'),
  fields: z.array(V3IndexField).min(1),
  limit: z.number().int().positive('Cache limit must be positive').default(100),
  comment: comment.default(''),
});
const schemaCommon = {
  source: V3KeyField,
  target: V3KeyField,
  properties: z.array(V3StructField).default([]),
  direction,
  indexes: z.array(V3Index).default([]),
  groups: z.array(V3Group).default([]),
  caches: z.array(V3Cache).default([]),
};
export const V3ModelSchema = z.discriminatedUnion(
  'type',
  [
    z.strictObject({ type: z.literal('EDGE'), ...schemaCommon }),
    z.strictObject({ type: z.literal('MULTI_EDGE'), id: z.strictObject({ type: primitive, comment }), ...schemaCommon }),
  ],
  { error: (i) => `expected EDGE or MULTI_EDGE, got ${JSON.stringify((i.input as { type?: unknown } | undefined)?.type)}` },
);
type V3ModelSchema = z.infer<typeof V3ModelSchema>;

/** A table's (or queue's) `storage`, validated as Actionbase's V3CompatService does. */
export const storage = z
  .string({ error: 'storage is required' })
  .regex(/^datastore:\/\/[a-z_]+\/[a-zA-Z0-9_]+$/, 'storage must be in format datastore://<namespace>/<table> (e.g., datastore://my_namespace/my_table)');

export const V3TableCreate = z.strictObject({
  table: name('table'),
  schema: V3ModelSchema,
  storage,
  mode: V3Mode.default('SYNC'),
  comment,
});
export const V3TableUpdate = z.strictObject({
  active: z.boolean().optional(),
  schema: V3ModelSchema.optional(),
  mode: V3Mode.optional(),
  comment: comment.optional(),
});

// Actionbase's DatabaseCreateRequest and AliasCreateRequest require `comment`; ours default it to ""
// (clients of this repository create databases and aliases by name alone). `version` is accepted and
// unused, as there.
export const V3DatabaseCreate = z.strictObject({ database: name('database'), comment: comment.default(''), active: z.boolean().default(true), version: z.number().int().optional() });
export const V3DatabaseUpdate = z.strictObject({ active: z.boolean().optional(), comment: comment.optional(), version: z.number().int().optional() });
export const V3AliasCreate = z.strictObject({ alias: name('alias'), table: name('table'), comment: comment.default('') });
export const V3AliasUpdate = z.strictObject({ active: z.boolean().optional(), table: name('table').optional(), comment: comment.optional() });

export const modeFromV3 = (m: V3Mode, field = 'mode'): MutationMode => {
  if (m === 'DENY') throw badRequest(field, 'DENY is not supported (as in Actionbase, whose v2 engine has no such mode); use SYNC, ASYNC or DROP');
  return m === 'DROP' ? 'IGNORE' : m;
};
const modeToV3 = (m: MutationMode): V3Mode => (m === 'IGNORE' ? 'DROP' : m);

const fieldFromV3 = (f: z.infer<typeof V3StructField>): FieldDef => {
  const type = fieldTypeOf(f.type);
  const out: FieldDef = { name: f.name, type, nullable: f.nullable, comment: f.comment };
  if (primitiveOf({ ...out }) !== f.type) out.primitive = f.type;
  return out;
};

/** The parts of a table definition that a v3 `schema` carries. */
export type SchemaPart = Pick<TableDef, 'kind' | 'source' | 'target' | 'idField' | 'fields' | 'directionType' | 'indexes' | 'groups' | 'caches'>;

export function schemaFromV3(s: V3ModelSchema): SchemaPart {
  return {
    kind: s.type,
    source: { type: s.source.type === 'long' ? 'LONG' : 'STRING', comment: s.source.comment },
    target: { type: s.target.type === 'long' ? 'LONG' : 'STRING', comment: s.target.comment },
    ...(s.type === 'MULTI_EDGE' ? { idField: { type: s.id.type, comment: s.id.comment } } : {}),
    fields: s.properties.map(fieldFromV3),
    directionType: s.direction,
    indexes: s.indexes.map((i) => ({ name: i.index, fields: i.fields.map((f) => ({ name: f.field, order: f.order })), comment: i.comment })),
    groups: s.groups as GroupDef[],
    caches: s.caches as CacheDef[],
  };
}

const AUDIT_UNKNOWN: Audit = { revision: -1, createdAt: -1, createdBy: '', updatedAt: -1, updatedBy: '' };
const audit = (a: Audit | undefined): Audit => a ?? AUDIT_UNKNOWN;

export function tableDescriptor(t: TableDef, tenant: string): Record<string, unknown> {
  const multi = t.kind === 'MULTI_EDGE';
  const type = multi ? 'multiEdge' : 'edge';
  const key = (k: { type: string; comment: string }) => ({ type: k.type.toLowerCase(), comment: k.comment });
  return {
    type,
    tenant,
    database: t.database,
    table: t.name,
    schema: {
      type,
      ...(multi ? { id: t.idField ?? { type: 'string', comment: '' } } : {}),
      source: key(t.source),
      target: key(t.target),
      properties: t.fields.map((f) => ({ name: f.name, type: primitiveOf(f), comment: f.comment, nullable: f.nullable })),
      direction: t.directionType,
      indexes: t.indexes.map((i) => ({ index: i.name, fields: i.fields.map((f) => ({ field: f.name, order: f.order })), comment: i.comment ?? '', primary: -1, batch: 0 })),
      groups: t.groups ?? [],
      caches: t.caches ?? [],
    },
    mode: modeToV3(t.mode),
    storage: t.storage,
    active: t.active,
    comment: t.comment,
    ...audit(t.audit),
  };
}

export const databaseDescriptor = (d: DatabaseDef, tenant: string) => ({ tenant, database: d.name, active: d.active, comment: d.comment, ...audit(d.audit) });
export const aliasDescriptor = (a: AliasDef, tenant: string) => ({
  tenant,
  database: a.database,
  alias: a.name,
  table: a.table,
  active: a.active,
  comment: a.comment,
  ...audit(a.audit),
});

// ---- v3, this repository's earlier table body ------------------------------------------------------
// Kept for the clients written against it (a body whose `schema` has no `type`): `type`, `direction`,
// `indexes` at the top level, uppercase type names. Strict like the rest.

const fieldType = z.enum(FIELD_TYPES, { error: (i) => `unknown property type ${JSON.stringify(i.input)}; one of ${FIELD_TYPES.join(', ')}` });
const keyType = z.enum(KEY_TYPES, { error: (i) => `unknown key type ${JSON.stringify(i.input)}; one of ${KEY_TYPES.join(', ')}` });
const mode = z.enum(MODES);

export const LegacyTableBody = z.strictObject({
  table: name('table'),
  type: z.enum(['EDGE', 'MULTI_EDGE']).default('EDGE'),
  comment: comment.default(''),
  schema: z.strictObject({
    source: z.strictObject({ type: keyType, comment: z.string().default('') }),
    target: z.strictObject({ type: keyType, comment: z.string().default('') }),
    properties: z
      .array(z.strictObject({ name: z.string().min(1), type: fieldType, nullable: z.boolean().default(true), comment: z.string().default('') }))
      .default([]),
  }),
  direction: direction.default('BOTH'),
  indexes: z
    .array(
      z.strictObject({
        index: name('index'),
        fields: z.array(z.strictObject({ field: z.string(), order: order.default('ASC') })).min(1),
        comment: z.string().default(''),
      }),
    )
    .default([]),
  mode: mode.default('SYNC'),
  storage: z.string().default('datastore://embedded/default'),
  readOnly: z.boolean().default(false),
  active: z.boolean().default(true),
});

export function legacySchema(b: z.infer<typeof LegacyTableBody>): SchemaPart {
  return {
    kind: b.type,
    source: b.schema.source,
    target: b.schema.target,
    fields: b.schema.properties,
    directionType: b.direction,
    indexes: b.indexes.map((i) => ({ name: i.index, fields: i.fields.map((f) => ({ name: f.field, order: f.order })), comment: i.comment })),
    groups: [],
    caches: [],
  };
}

/** Whether a table create body is Actionbase's (a typed `schema`) rather than the earlier one. */
export const isActionbaseTableBody = (body: unknown): boolean => {
  const s = (body as { schema?: unknown } | null)?.schema;
  return typeof s === 'object' && s !== null && 'type' in s;
};

// ---- v2 ----------------------------------------------------------------------------------------

const v2name = z.string().min(1);
export const V2ServiceBody = z.object({ desc: z.string().default(''), active: z.boolean().optional() });

export const V2LabelBody = z.object({
  desc: z.string().default(''),
  type: z.enum(['INDEXED', 'HASH', 'MULTI_EDGE']).default('INDEXED'),
  schema: z.object({
    src: z.object({ type: keyType, desc: z.string().default('') }),
    tgt: z.object({ type: keyType, desc: z.string().default('') }),
    fields: z
      .array(z.object({ name: v2name, type: fieldType, nullable: z.boolean().default(true), desc: z.string().default('') }))
      .default([]),
  }),
  dirType: direction.default('BOTH'),
  storage: z.string().default('datastore://embedded/default'),
  indices: z
    .array(
      z.object({
        name: name('index'),
        fields: z.array(z.object({ name: z.string(), order: order.default('ASC') })).min(1),
        desc: z.string().default(''),
      }),
    )
    .default([]),
  groups: z.array(z.unknown()).default([]),
  event: z.boolean().default(false),
  readOnly: z.boolean().default(false),
  mode: mode.default('SYNC'),
  active: z.boolean().default(true),
});

export const V2AliasBody = z.object({ desc: z.string().default(''), target: z.string(), active: z.boolean().default(true) });

export function labelFromV2(b: z.infer<typeof V2LabelBody>): SchemaPart & Pick<TableDef, 'mode' | 'comment' | 'storage' | 'readOnly' | 'event'> & { active: boolean } {
  return {
    kind: b.type === 'MULTI_EDGE' ? 'MULTI_EDGE' : 'EDGE',
    source: { type: b.schema.src.type, comment: b.schema.src.desc },
    target: { type: b.schema.tgt.type, comment: b.schema.tgt.desc },
    fields: b.schema.fields.map((f) => ({ name: f.name, type: f.type, nullable: f.nullable, comment: f.desc })),
    directionType: b.dirType,
    indexes: b.indices.map((i) => ({ name: i.name, fields: i.fields, comment: i.desc })),
    mode: b.mode,
    comment: b.desc,
    storage: b.storage,
    active: b.active,
    readOnly: b.readOnly,
    event: b.event,
  };
}

export function tableToV2(t: TableDef): Record<string, unknown> {
  return {
    active: t.active,
    name: `${t.database}.${t.name}`,
    desc: t.comment,
    type: t.kind === 'MULTI_EDGE' ? 'MULTI_EDGE' : 'INDEXED',
    schema: {
      src: { type: t.source.type, desc: t.source.comment },
      tgt: { type: t.target.type, desc: t.target.comment },
      fields: t.fields.map((f) => ({ name: f.name, type: f.type, nullable: f.nullable, desc: f.comment })),
    },
    dirType: t.directionType,
    storage: t.storage,
    indices: t.indexes.map((i) => ({ name: i.name, fields: i.fields, desc: i.comment ?? '' })),
    groups: [],
    event: t.event,
    readOnly: t.readOnly,
    mode: t.mode,
  };
}

export const serviceToV2 = (d: DatabaseDef) => ({ active: d.active, name: d.name, desc: d.comment });

