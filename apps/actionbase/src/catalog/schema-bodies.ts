import { z } from 'zod';
import { FIELD_TYPES, KEY_TYPES, MODES, type AliasDef, type DatabaseDef, type TableDef } from './model';

/**
 * Request and response bodies of the schema APIs. v2 (service/label/alias, what existing Actionbase
 * tools use) and v3 (database/table/alias) both map onto the one internal model of ./model.ts.
 */

const name = z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_-]*$/, 'must be letters, digits, _ or -').max(128);
const fieldType = z.enum(FIELD_TYPES, { error: (i) => `unknown property type ${JSON.stringify(i.input)}; one of ${FIELD_TYPES.join(', ')}` });
const keyType = z.enum(KEY_TYPES, { error: (i) => `unknown key type ${JSON.stringify(i.input)}; one of ${KEY_TYPES.join(', ')}` });
const order = z.enum(['ASC', 'DESC']);
const direction = z.enum(['BOTH', 'OUT', 'IN']);
const mode = z.enum(MODES);

// ---- v3 ----------------------------------------------------------------------------------------

export const V3DatabaseBody = z.object({ database: name.optional(), comment: z.string().default(''), active: z.boolean().default(true) });

export const V3TableBody = z.object({
  table: name.optional(),
  type: z.enum(['EDGE', 'MULTI_EDGE']).default('EDGE'),
  comment: z.string().default(''),
  schema: z.object({
    source: z.object({ type: keyType, comment: z.string().default('') }),
    target: z.object({ type: keyType, comment: z.string().default('') }),
    properties: z
      .array(z.object({ name: name, type: fieldType, nullable: z.boolean().default(true), comment: z.string().default('') }))
      .default([]),
  }),
  direction: direction.default('BOTH'),
  indexes: z
    .array(
      z.object({
        index: name,
        fields: z.array(z.object({ field: z.string(), order: order.default('ASC') })).min(1),
        comment: z.string().default(''),
      }),
    )
    .default([]),
  mode: mode.default('SYNC'),
  storage: z.string().default('embedded://default'),
  readOnly: z.boolean().default(false),
  active: z.boolean().default(true),
});

export const V3AliasBody = z.object({ alias: name.optional(), table: name, comment: z.string().default(''), active: z.boolean().default(true) });

export function tableFromV3(database: string, tableName: string, b: z.infer<typeof V3TableBody>): TableDef {
  return {
    database,
    name: tableName,
    kind: b.type,
    source: b.schema.source,
    target: b.schema.target,
    fields: b.schema.properties,
    directionType: b.direction,
    indexes: b.indexes.map((i) => ({ name: i.index, fields: i.fields.map((f) => ({ name: f.field, order: f.order })), comment: i.comment })),
    mode: b.mode,
    comment: b.comment,
    storage: b.storage,
    active: b.active,
    readOnly: b.readOnly,
    event: false,
  };
}

export function tableToV3(t: TableDef): Record<string, unknown> {
  return {
    database: t.database,
    table: t.name,
    type: t.kind,
    comment: t.comment,
    schema: { source: t.source, target: t.target, properties: t.fields },
    direction: t.directionType,
    indexes: t.indexes.map((i) => ({ index: i.name, fields: i.fields.map((f) => ({ field: f.name, order: f.order })), comment: i.comment ?? '' })),
    mode: t.mode,
    storage: t.storage,
    readOnly: t.readOnly,
    active: t.active,
  };
}

export const databaseToV3 = (d: DatabaseDef) => ({ database: d.name, comment: d.comment, active: d.active });
export const aliasToV3 = (a: AliasDef) => ({ database: a.database, alias: a.name, table: a.table, comment: a.comment, active: a.active });

// ---- v2 ----------------------------------------------------------------------------------------

export const V2ServiceBody = z.object({ desc: z.string().default(''), active: z.boolean().optional() });

export const V2LabelBody = z.object({
  desc: z.string().default(''),
  type: z.enum(['INDEXED', 'HASH', 'MULTI_EDGE']).default('INDEXED'),
  schema: z.object({
    src: z.object({ type: keyType, desc: z.string().default('') }),
    tgt: z.object({ type: keyType, desc: z.string().default('') }),
    fields: z
      .array(z.object({ name: name, type: fieldType, nullable: z.boolean().default(true), desc: z.string().default('') }))
      .default([]),
  }),
  dirType: direction.default('BOTH'),
  storage: z.string().default('datastore://embedded/default'),
  indices: z
    .array(
      z.object({
        name: name,
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

export function tableFromV2(service: string, label: string, b: z.infer<typeof V2LabelBody>): TableDef {
  return {
    database: service,
    name: label,
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
