/**
 * Regenerates libs/events/json-schema/*.json from the zod schemas. Run after changing a schema:
 *   npx tsx libs/events/scripts/export-json-schema.ts
 * json-schema.spec.ts fails while the committed files differ from what the code generates.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderJsonSchemaFiles } from '../src/json-schema';

const outDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'json-schema');
mkdirSync(outDir, { recursive: true });
for (const [name, content] of Object.entries(renderJsonSchemaFiles())) {
  writeFileSync(join(outDir, name), content);
  console.log(`wrote ${join(outDir, name)}`);
}
