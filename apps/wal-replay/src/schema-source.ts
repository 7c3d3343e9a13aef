import { readFileSync } from 'node:fs';
import { CoreClient, type SchemaDump } from '@pipeline/core-api';

/** The schema to create on the target: from the source core's schema API, or from a file (same JSON shape). */
export async function loadSchema(opts: { sourceUrl?: string | undefined; schemaFile?: string | undefined; actor: string; token?: string | undefined }): Promise<SchemaDump> {
  if (opts.schemaFile) {
    const s = JSON.parse(readFileSync(opts.schemaFile, 'utf8')) as Partial<SchemaDump>;
    return { databases: s.databases ?? [], tables: s.tables ?? [], aliases: s.aliases ?? [] };
  }
  if (opts.sourceUrl) return new CoreClient({ baseUrl: opts.sourceUrl, actor: opts.actor, token: opts.token }).schema();
  throw new Error('no schema: set SOURCE_URL (--source-url) or SCHEMA_FILE (--schema-file)');
}
