import { describe, expect, it } from '@jest/globals';
import { currentStateMappings, mapNode, mutationLogMappings } from './mappings';

describe('mappings generated from the record schemas', () => {
  it('are strict at every level that has known fields', () => {
    const m = mutationLogMappings() as any;
    expect(m.dynamic).toBe('strict');
    expect(m.properties.wal.dynamic).toBe('strict');
    expect(m.properties.cdc.properties.after.dynamic).toBe('strict');
    expect(m.properties.wal.properties.event.properties.version).toEqual({ type: 'long' });
    expect(m.properties.cdc.properties.processedAt).toEqual({ type: 'date', format: 'epoch_millis' });
    expect(m.properties.cdc.properties.status).toEqual({ type: 'keyword' });
  });

  it('keep open property maps in _source without indexing them (no mapping drift per table)', () => {
    const m = mutationLogMappings() as any;
    expect(m.properties.wal.properties.event.properties.properties).toEqual({ type: 'object', enabled: false });
    expect((currentStateMappings() as any).properties.state.properties.properties).toEqual({ type: 'object', enabled: false });
  });

  it('map string|integer ids to one keyword', () => {
    expect(mapNode({ anyOf: [{ type: 'string' }, { type: 'integer' }] })).toMatchObject({ type: 'keyword' });
    expect(mapNode({ anyOf: [{ type: 'string' }, { type: 'null' }] })).toEqual({ type: 'keyword' });
  });
});
