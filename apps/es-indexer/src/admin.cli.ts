/**
 * Operator commands of es-indexer (they talk to Elasticsearch and the audit file directly, not to the lookup API):
 *
 *   npx tsx apps/es-indexer/src/admin.cli.ts verify-audit <file> [<file>...]      rotated files oldest first
 *   npx tsx apps/es-indexer/src/admin.cli.ts erase <user> --operator <name> --reason <text>
 *   npx tsx apps/es-indexer/src/admin.cli.ts mint-token <user> [--ttl-seconds N]  needs LOOKUP_JWT_SECRET
 *
 * verify-audit exits 0 when the chain holds, 1 at the first broken line (named). erase removes the person's
 * mutation-log records, current-state documents and abuse alerts, prints the counts before and after, writes an
 * audit line (action `erase`), and exits 1 if any document of the person is left.
 */
import { parseArgs } from 'node:util';
import { createEsClient, esConnectionFromEnv } from '@pipeline/elasticsearch';
import { parseConfig } from '@pipeline/stream';
import { AuditLog, verifyAuditFiles } from './audit-log';
import { mintToken } from '@pipeline/web-auth';
import { ConfigSchema } from './config';
import { eraseSubject } from './erase';

const USAGE = 'usage: admin.cli.ts verify-audit <file>... | erase <user> --operator <name> --reason <text> | mint-token <user> [--ttl-seconds N]';

const AdminSchema = ConfigSchema.pick({
  ES_URL: true,
  ES_API_KEY: true,
  ES_USERNAME: true,
  ES_PASSWORD: true,
  ES_CA_FILE: true,
  INDEX_PREFIX: true,
  AUDIT_LOG_PATH: true,
  AUDIT_CHAIN_KEY: true,
  LOOKUP_JWT_SECRET: true,
  LOOKUP_JWT_ISSUER: true,
  LOOKUP_JWT_AUDIENCE: true,
  LOOKUP_JWT_MAX_TTL_S: true,
  LOOKUP_JWT_USER_CLAIM: true,
});

export async function main(argv: string[], env: Record<string, string | undefined> = process.env): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { operator: { type: 'string' }, reason: { type: 'string' }, 'ttl-seconds': { type: 'string' } },
  });
  const [cmd, ...rest] = positionals;
  const config = parseConfig(AdminSchema, env);
  switch (cmd) {
    case 'verify-audit': {
      if (!rest.length) break;
      const r = await verifyAuditFiles(rest, config.AUDIT_CHAIN_KEY);
      console.log(JSON.stringify(r));
      if (!r.ok) console.error(`audit chain broken at ${r.error!.file}:${r.error!.line}: ${r.error!.problem}`);
      return r.ok ? 0 : 1;
    }
    case 'erase': {
      if (rest.length !== 1 || !values.operator || !values.reason || values.reason.trim().length < 8) break;
      const subject = rest[0]!;
      const client = createEsClient(esConnectionFromEnv(config));
      const audit = new AuditLog(config.AUDIT_LOG_PATH, config.AUDIT_CHAIN_KEY);
      try {
        const proof = await eraseSubject(client, config.INDEX_PREFIX, subject);
        const left = proof.after.mutations + proof.after.edges + proof.after.alerts;
        await audit.append({
          at: new Date().toISOString(),
          user: values.operator,
          action: 'erase',
          params: { subject, before: proof.before, after: proof.after, alertsIndex: proof.alertsIndex },
          ip: 'cli',
          status: left === 0 ? 200 : 500,
          results: proof.deleted.mutations + proof.deleted.edges + proof.deleted.alerts,
          reason: values.reason.trim(),
        });
        console.log(JSON.stringify(proof));
        if (!proof.alertsIndex.exists) console.error(`no alerts index ${proof.alertsIndex.name} (abuse-detector not deployed with this prefix): no alerts to erase`);
        if (left) console.error(`${left} document(s) of ${subject} are still there (written while erasing?); run erase again`);
        return left === 0 ? 0 : 1;
      } finally {
        await audit.close();
        await client.close();
      }
    }
    case 'mint-token': {
      if (rest.length !== 1) break;
      if (!config.LOOKUP_JWT_SECRET) {
        console.error('mint-token needs LOOKUP_JWT_SECRET (the same secret the lookup API verifies with)');
        return 2;
      }
      const ttl = Number(values['ttl-seconds'] ?? 900);
      if (!Number.isInteger(ttl) || ttl <= 0 || ttl > config.LOOKUP_JWT_MAX_TTL_S) {
        console.error(`--ttl-seconds must be a whole number from 1 to LOOKUP_JWT_MAX_TTL_S (${config.LOOKUP_JWT_MAX_TTL_S})`);
        return 2;
      }
      const s = { secret: config.LOOKUP_JWT_SECRET, audience: config.LOOKUP_JWT_AUDIENCE, userClaim: config.LOOKUP_JWT_USER_CLAIM, ...(config.LOOKUP_JWT_ISSUER ? { issuer: config.LOOKUP_JWT_ISSUER } : {}) };
      console.log(await mintToken(s, rest[0]!, ttl));
      return 0;
    }
  }
  console.error(USAGE);
  return 2;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error((err as Error).message);
      process.exit(1);
    },
  );
}
