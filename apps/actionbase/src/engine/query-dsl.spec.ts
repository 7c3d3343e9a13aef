/**
 * The query DSL's parts that read nothing: the request's validation, post-processors and aggregators, with
 * the cases of Actionbase's ActionbaseQueryParserSpec, ActionbaseQueryExecutorAggregatorSpec,
 * ActionbaseQueryExecutorPostProcessJsonObjectSpec and ActionbaseQueryExecutorPostProcessSplitExplodeSpec.
 * The steps that read tables are tested against a running core (test/conformance/query-dsl.conformance.int.spec.ts).
 */
import { describe, expect, it } from '@jest/globals';
import { queryDslRequestSchema } from '@pipeline/core-api';
import type { Catalog } from '../catalog/catalog';
import { ApiError } from '../errors';
import { castText, runQueryDsl, shapeRows } from './query-dsl';
import type { QueryService } from './query-service';

const categories = (...entries: [string, number][]) => entries.map(([category, amount]) => ({ category, amount }));
const cols = ['category', 'amount'];

async function refusal(body: unknown): Promise<ApiError> {
  try {
    await runQueryDsl(body, {} as Catalog, {} as QueryService);
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error('accepted');
}

describe('query DSL request (ActionbaseQueryParserSpec)', () => {
  it('reads every step type with its defaults', () => {
    const v = { type: 'VALUE', value: [1] };
    const r = queryDslRequestSchema.parse({
      query: [
        { type: 'SCAN', name: 'a', database: 'd', table: 't', source: v, direction: 'OUT', index: 'created_at_desc', limit: 100, ranges: 'name:eq:Alice' },
        { type: 'GET', name: 'b', database: 'd', table: 't', source: { type: 'REF', ref: 'a', field: 'tgt' }, target: v },
        { type: 'COUNT', name: 'd', include: true, database: 'd', table: 't', source: v, direction: 'OUT' },
        { type: 'SELF', name: 'e', database: 'd', table: 't', source: { type: 'VALUE', value: [1, 2, 3] } },
        { type: 'CACHE', name: 'f', database: 'd', table: 't', source: { type: 'REF', ref: 'a', field: 'tgt' }, direction: 'OUT', cache: 'recent_wishlist', limit: 10, include: true },
      ],
    });
    expect(r.query).toHaveLength(5);
    expect(r.query[0]).toMatchObject({ type: 'SCAN', limit: 100, ranges: 'name:eq:Alice', include: false, memoize: false, post: [], aggregators: [] });
    expect(r.query[2]).toMatchObject({ type: 'COUNT', include: true });
    expect(r.query[4]).toMatchObject({ type: 'CACHE', cache: 'recent_wishlist', limit: 10 });
    expect(r.stats).toEqual([]);
  });

  it('SCAN limit defaults to 10, as Actionbase', () => {
    const r = queryDslRequestSchema.parse({ query: [{ type: 'SCAN', database: 'd', table: 't', source: { type: 'VALUE', value: [1] }, direction: 'IN', index: 'i' }] });
    expect(r.query[0]).toMatchObject({ limit: 10 });
  });

  it('reads a STEP vertex recursively', () => {
    const inner = { type: 'SCAN', database: 'd', table: 't', source: { type: 'VALUE', value: ['a'] }, direction: 'OUT', index: 'i' };
    const r = queryDslRequestSchema.parse({ query: [{ type: 'GET', database: 'd', table: 't', source: { type: 'STEP', step: inner, field: 'target' }, target: { type: 'VALUE', value: ['x'] } }] });
    expect(r.query[0]).toMatchObject({ source: { type: 'STEP', field: 'target', step: { type: 'SCAN', limit: 10 } } });
  });

  const base = { type: 'COUNT', database: 'd', table: 't', source: { type: 'VALUE', value: [1] }, direction: 'OUT' };
  it.each([
    [{}, 'query', 'required'],
    [{ query: [] }, 'query', 'one or more'],
    [{ steps: [] }, 'steps', 'unknown field'],
    [{ query: [{ ...base, type: 'count' }] }, 'query[0].type', 'expected type'],
    [{ query: [{ ...base, direction: 'out' }] }, 'query[0].direction', 'OUT or IN'],
    [{ query: [{ ...base, direction: undefined }] }, 'query[0].direction', 'required'],
    [{ query: [{ ...base, database: undefined }] }, 'query[0].database', 'required'],
    [{ query: [{ ...base, extra: 1 }] }, 'query[0].extra', 'unknown field'],
    [{ query: [{ ...base, source: { type: 'CONSTANT', values: [1] } }] }, 'query[0].source.type', 'expected type VALUE, REF or STEP'],
    [{ query: [{ ...base, source: { type: 'VALUE', value: [{}] } }] }, 'query[0].source.value[0]', 'expected a string'],
    [{ query: [{ ...base, type: 'CACHE', cache: 'c' }] }, 'query[0].limit', 'required'],
    [{ query: [{ ...base, type: 'SCAN', index: 'i', limit: 1001 }] }, 'query[0].limit', 'at most 1000'],
    [{ query: [{ ...base, type: 'SCAN', index: 'i', limit: 2.5 }] }, 'query[0].limit', 'integer'],
    [{ query: [{ ...base, aggregators: [{ type: 'COUNT', field: 'x', order: 'desc', limit: 1 }] }] }, 'query[0].aggregators[0].order', 'ASC or DESC'],
    [{ query: [{ ...base, aggregators: [{ type: 'COUNT', field: 'x', order: 'DESC' }] }] }, 'query[0].aggregators[0].limit', 'required'],
    [{ query: [{ ...base, post: [{ type: 'JSON_OBJECT', field: 'x', paths: [{ path: 'a', alias: 'b', dataType: 'JSON' }] }] }] }, 'query[0].post[0].paths[0].dataType', 'expected one of'],
    [{ query: [{ ...base, source: { type: 'VALUE', value: Array.from({ length: 1001 }, (_, i) => i) } }] }, 'query[0].source.value', 'limit vertexValues'],
    [{ query: [base], stats: ['NOPE'] }, 'stats[0]', 'expected one of'],
    [{ query: Array.from({ length: 17 }, (_, i) => ({ ...base, name: `s${i}` })) }, 'query', 'limit steps'],
  ])('refuses %j naming %s', async (body, field, message) => {
    const e = await refusal(body);
    expect(e.status).toBe(400);
    expect(e.field).toBe(field);
    expect(e.message).toContain(message);
  });

  it('refuses more steps than the limit, nested ones counted', async () => {
    let source: unknown = { type: 'VALUE', value: [1] };
    for (let i = 0; i < 17; i++) source = { type: 'STEP', field: 'source', step: { ...base, source } };
    // The catalog is asked for the tables step by step; this one has none, so stub it.
    const catalog = { resolve: () => ({ def: { kind: 'EDGE', fields: [], indexes: [] }, name: 'd.t' }) } as unknown as Catalog;
    await expect(runQueryDsl({ query: [{ ...base, source }] }, catalog, {} as QueryService)).rejects.toMatchObject({ status: 400, message: expect.stringContaining('limit steps') });
  });
});

describe('aggregators (ActionbaseQueryExecutorAggregatorSpec)', () => {
  const rows = categories(['a', 10], ['a', 20], ['a', 30], ['b', 40], ['b', 50], ['c', 60]);
  const count = (order: 'ASC' | 'DESC', limit: number) => ({ post: [], aggregators: [{ type: 'COUNT' as const, field: 'category', order, limit }] });
  const sum = (keyFields: string[], order: 'ASC' | 'DESC', limit: number, valueField = 'amount') => ({
    post: [],
    aggregators: [{ type: 'SUM' as const, valueField, keyFields, order, limit }],
  });

  it('COUNT groups rows by field and counts occurrences in DESC order', () => {
    expect(shapeRows(count('DESC', 10), cols, rows)).toEqual([
      { category: 'a', count: 3 },
      { category: 'b', count: 2 },
      { category: 'c', count: 1 },
    ]);
  });
  it('COUNT sorts ascending when order is ASC (ties in order of appearance)', () => {
    expect(shapeRows(count('ASC', 10), cols, categories(['a', 10], ['a', 20], ['a', 30], ['b', 40], ['c', 60]))).toEqual([
      { category: 'b', count: 1 },
      { category: 'c', count: 1 },
      { category: 'a', count: 3 },
    ]);
  });
  it('COUNT truncates to limit', () => {
    expect(shapeRows(count('DESC', 2), cols, [...rows, { category: 'd', amount: 70 }])).toEqual([
      { category: 'a', count: 3 },
      { category: 'b', count: 2 },
    ]);
  });
  it('COUNT of no rows is no rows', () => expect(shapeRows(count('DESC', 10), cols, [])).toEqual([]));
  it('COUNT of a field that is not a column is refused', () => {
    expect(() => shapeRows({ post: [], aggregators: [{ type: 'COUNT', field: 'missing', order: 'DESC', limit: 10 }] }, cols, rows)).toThrow(
      expect.objectContaining({ status: 400, field: 'query[0].aggregators[0].field' }),
    );
  });

  it('SUM groups by one key and sums in DESC order', () => {
    expect(shapeRows(sum(['category'], 'DESC', 10), cols, categories(['a', 10], ['a', 20], ['b', 5], ['b', 15], ['b', 25], ['c', 100]))).toEqual([
      { category: 'c', amount: 100 },
      { category: 'b', amount: 45 },
      { category: 'a', amount: 30 },
    ]);
  });
  it('SUM sorts ascending when order is ASC', () => {
    expect(shapeRows(sum(['category'], 'ASC', 10), cols, categories(['a', 50], ['b', 10], ['c', 30]))).toEqual([
      { category: 'b', amount: 10 },
      { category: 'c', amount: 30 },
      { category: 'a', amount: 50 },
    ]);
  });
  it('SUM groups by several key fields', () => {
    const r = [
      { region: 'KR', product: 'A', amount: 10 },
      { region: 'KR', product: 'A', amount: 20 },
      { region: 'KR', product: 'B', amount: 30 },
      { region: 'US', product: 'A', amount: 40 },
    ];
    expect(shapeRows(sum(['region', 'product'], 'DESC', 10), ['region', 'product', 'amount'], r)).toEqual([
      { region: 'US', product: 'A', amount: 40 },
      { region: 'KR', product: 'A', amount: 30 },
      { region: 'KR', product: 'B', amount: 30 },
    ]);
  });
  it('SUM truncates to limit', () => {
    expect(shapeRows(sum(['category'], 'DESC', 2), cols, categories(['a', 10], ['b', 20], ['c', 30], ['d', 40]))).toEqual([
      { category: 'd', amount: 40 },
      { category: 'c', amount: 30 },
    ]);
  });
  it('SUM of no rows is no rows', () => expect(shapeRows(sum(['category'], 'DESC', 10), cols, [])).toEqual([]));
  it('SUM of a value or key field that is not a column is refused', () => {
    expect(() => shapeRows(sum(['category'], 'DESC', 10, 'missing'), cols, rows)).toThrow(expect.objectContaining({ field: 'query[0].aggregators[0].valueField' }));
    expect(() => shapeRows(sum(['missing'], 'DESC', 10), cols, rows)).toThrow(expect.objectContaining({ field: 'query[0].aggregators[0].keyFields[0]' }));
  });
  it('SUM of a row without a number is refused naming the value field', () => {
    expect(() => shapeRows(sum(['category'], 'DESC', 10), cols, [{ category: 'a', amount: null }])).toThrow(expect.objectContaining({ field: 'query[0].aggregators[0].valueField' }));
  });
  it('FLATTEN leaves the rows as they are', () => {
    expect(shapeRows({ post: [], aggregators: [{ type: 'FLATTEN' }] }, cols, rows)).toEqual(rows);
  });
});

describe('JSON_OBJECT (ActionbaseQueryExecutorPostProcessJsonObjectSpec)', () => {
  const jcols = ['id', 'json_data'];
  const plan = (paths: [string, string, string][], drop: boolean) => ({
    post: [{ type: 'JSON_OBJECT' as const, field: 'json_data', paths: paths.map(([path, alias, dataType]) => ({ path, alias, dataType: dataType as 'STRING' })), drop }],
    aggregators: [],
  });

  it('extracts JSON fields', () => {
    const rows = [
      { id: '1', json_data: '{"name": "John", "age": 30, "city": "New York"}' },
      { id: '2', json_data: '{"name": "Jane", "age": 25, "city": "London"}' },
      { id: '3', json_data: null },
    ];
    const p = plan(
      [
        ['name', 'extracted_name', 'STRING'],
        ['age', 'extracted_age', 'INT'],
      ],
      false,
    );
    expect(shapeRows(p, jcols, rows)).toEqual([
      { ...rows[0], extracted_name: 'John', extracted_age: 30 },
      { ...rows[1], extracted_name: 'Jane', extracted_age: 25 },
      { ...rows[2], extracted_name: null, extracted_age: null },
    ]);
  });
  it('drops the JSON field when asked', () => {
    const rows = [
      { id: '1', json_data: '{"name": "John", "age": 30}' },
      { id: '2', json_data: '{"name": "Jane", "age": 25}' },
    ];
    expect(shapeRows(plan([['name', 'extracted_name', 'STRING']], true), jcols, rows)).toEqual([
      { id: '1', extracted_name: 'John' },
      { id: '2', extracted_name: 'Jane' },
    ]);
  });
  it('a missing path is null', () => {
    const rows = [
      { id: '1', json_data: '{"name": "John", "age": 30}' },
      { id: '2', json_data: '{"name": "Jane"}' },
    ];
    expect(shapeRows(plan([['age', 'extracted_age', 'INT']], false), jcols, rows)[1]).toMatchObject({ extracted_age: null });
  });
  it('follows nested objects; an object or array found is JSON text', () => {
    const rows = [{ id: '1', json_data: '{"user": {"name": "John", "details": {"age": 30}, "tags": [1, 2]}}' }];
    const p = plan(
      [
        ['user.name', 'n', 'STRING'],
        ['user.details.age', 'a', 'INT'],
        ['user.tags', 't', 'STRING'],
        ['user.details', 'd', 'STRING'],
      ],
      true,
    );
    expect(shapeRows(p, jcols, rows)).toEqual([{ id: '1', n: 'John', a: 30, t: '[1,2]', d: '{"age":30}' }]);
  });
  it('empty objects give nulls', () => {
    expect(shapeRows(plan([['name', 'x', 'STRING']], false), jcols, [{ id: '1', json_data: '{}' }])).toEqual([{ id: '1', json_data: '{}', x: null }]);
  });
  it('text that is not JSON is refused naming the field', () => {
    expect(() => shapeRows(plan([['name', 'x', 'STRING']], false), jcols, [{ id: '1', json_data: 'nope' }])).toThrow(expect.objectContaining({ field: 'query[0].post[0].field' }));
  });
});

describe('SPLIT_EXPLODE (ActionbaseQueryExecutorPostProcessSplitExplodeSpec)', () => {
  const rows = [
    { id: '1', fruits: 'apple,banana,cherry' },
    { id: '2', fruits: 'dog,cat' },
    { id: '3', fruits: '' },
  ];
  const plan = (drop: boolean, extra: Record<string, unknown> = {}) => ({
    post: [{ type: 'SPLIT_EXPLODE' as const, field: 'fruits', regex: ',', limit: 0, alias: 'fruit', dataType: 'STRING' as const, drop, ...extra }],
    aggregators: [],
  });

  it('splits and explodes, keeping the field', () => {
    expect(shapeRows(plan(false), ['id', 'fruits'], rows)).toEqual([
      { id: '1', fruits: 'apple,banana,cherry', fruit: 'apple' },
      { id: '1', fruits: 'apple,banana,cherry', fruit: 'banana' },
      { id: '1', fruits: 'apple,banana,cherry', fruit: 'cherry' },
      { id: '2', fruits: 'dog,cat', fruit: 'dog' },
      { id: '2', fruits: 'dog,cat', fruit: 'cat' },
    ]);
  });
  it('splits and explodes, dropping the field', () => {
    expect(shapeRows(plan(true), ['id', 'fruits'], rows).map((r) => [r.id, r.fruit])).toEqual([
      ['1', 'apple'],
      ['1', 'banana'],
      ['1', 'cherry'],
      ['2', 'dog'],
      ['2', 'cat'],
    ]);
  });
  it('limit bounds the parts, the last keeping the rest', () => {
    expect(shapeRows(plan(true, { limit: 2 }), ['id', 'fruits'], [rows[0]!]).map((r) => r.fruit)).toEqual(['apple', 'banana,cherry']);
  });
  it('casts each part to dataType; text that does not parse is null', () => {
    const p = { post: [{ type: 'SPLIT_EXPLODE' as const, field: 'xs', regex: '\\s*;\\s*', limit: 0, alias: 'x', dataType: 'LONG' as const, drop: true }], aggregators: [] };
    expect(shapeRows(p, ['xs'], [{ xs: '1 ; 9007199254740993;x' }]).map((r) => r.x)).toEqual([1, 9007199254740993n, null]);
  });
  it('a pattern beyond linear-time regexes is refused naming it', () => {
    expect(() => shapeRows(plan(true, { regex: '(a)\\1' }), ['id', 'fruits'], rows)).toThrow(expect.objectContaining({ field: 'query[0].post[0].regex' }));
  });
});

describe('castText (Actionbase v2 DataType.cast of text)', () => {
  it.each([
    ['127', 'BYTE', 127],
    ['128', 'BYTE', null],
    ['-32768', 'SHORT', -32768],
    ['2147483648', 'INT', null],
    ['9223372036854775807', 'LONG', 9223372036854775807n],
    ['1.5', 'DOUBLE', 1.5],
    ['1e3', 'DOUBLE', 1000],
    ['x', 'DOUBLE', null],
    ['TRUE', 'BOOLEAN', true],
    ['yes', 'BOOLEAN', false],
    ['abc', 'STRING', 'abc'],
  ])('%s as %s is %p', (s, t, v) => expect(castText(s, t)).toEqual(v));
});
