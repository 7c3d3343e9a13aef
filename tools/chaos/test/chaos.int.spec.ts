/**
 * The chaos drill, short enough for CI: one round (the core, the es-indexer and the snapshotter each killed
 * with SIGKILL, the consumers twice in quick succession, then the private Kafka, then the indexer of a private
 * Druid while its ingestion task holds records it has not published), two load clients moving multi-edges,
 * then reconcile (Druid included), check and the lost-mutation count. The private Druid (five JVMs) starts
 * alongside the rest and is awaited only before its kill. Longer runs by hand: tools/chaos/README.md.
 */
import { describe, it, expect } from '@jest/globals';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { repoRoot } from '@pipeline/stack';
import { runChaos } from '../src/chaos';

describe('chaos drill', () => {
  it('every component killed with SIGKILL and restarted under load: nothing lost, nothing divergent', async () => {
    const workDir = join(repoRoot(), '.stack', `it-chaos-${process.pid}`);
    try {
      const report = await runChaos({
        workDir,
        rounds: 1,
        clients: 2,
        loadBetweenKillsMs: 3_000,
        downMs: 1_000,
        killElasticsearch: false,
        privateDruid: true,
        settleTimeoutMs: 300_000,
        log: (msg, data) => process.stderr.write(`chaos: ${msg} ${JSON.stringify(data ?? {})}\n`),
      });
      process.stderr.write(`chaos report: ${JSON.stringify({ ...report, reconcile: undefined })}\n`);
      expect(report.kills.map((k) => k.component)).toEqual(['core', 'es-indexer', 'snapshotter', 'kafka', 'druid-indexer']);
      expect(report.sinks).toEqual(['core', 'elasticsearch', 'iceberg', 'druid']);
      expect(report.druid?.readBeforeKill).toBeGreaterThan(0);
      expect(report.acknowledged).toBeGreaterThan(200);
      expect(report.cdcRecords).toBeGreaterThan(0);
      // The relay reads the end of the CDC topic before it sends (apps/actionbase cdc-relay.ts), so a core
      // killed between publish and outbox delete sends nothing twice, and Druid, which sums facts, agrees.
      expect({
        lost: report.lost,
        lostKeys: report.lostKeys,
        duplicateCdcRecords: report.duplicateCdcRecords,
        divergentLines: report.divergentLines,
        checkMismatches: report.checkMismatches,
      }).toEqual({ lost: 0, lostKeys: [], duplicateCdcRecords: 0, divergentLines: [], checkMismatches: 0 });
      expect(report.divergent).toBe(0);
    } finally {
      rmSync(workDir, { recursive: true, force: true });
    }
  }, 1_500_000);
});
