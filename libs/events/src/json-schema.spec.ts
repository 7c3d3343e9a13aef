import { describe, it, expect } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { toJsonSchemas } from './index';
import { renderJsonSchemaFiles } from './json-schema';
import { LIB_DIR } from './spec-helpers';

describe('JSON Schema export', () => {
  it.each(Object.entries(renderJsonSchemaFiles()))(
    'committed json-schema/%s equals what the code generates (run scripts/export-json-schema.ts)',
    (name, generated) => {
      expect(readFileSync(`${LIB_DIR}json-schema/${name}`, 'utf8')).toBe(generated);
    },
  );

  it('is draft 2020-12, carries the field descriptions and lets unknown fields through', () => {
    const { wal, cdc } = toJsonSchemas();
    expect(wal['$schema']).toBe('https://json-schema.org/draft/2020-12/schema');
    const walProps = wal['properties'] as Record<string, Record<string, unknown>>;
    expect(walProps['processedAt']!['description']).toMatch(/epoch ms/);
    expect(wal['required']).toEqual(['version', 'type', 'processedAt', 'context', 'event', 'mode']);
    // Forward compatibility: a reader in another language must not reject a newer producer's extra fields.
    expect(JSON.stringify(wal)).not.toContain('"additionalProperties":false');
    expect(JSON.stringify(cdc)).not.toContain('"additionalProperties":false');
    expect((cdc['properties'] as Record<string, unknown>)['seq']).toBeDefined();
    expect(cdc['required']).not.toContain('seq');
  });
});
