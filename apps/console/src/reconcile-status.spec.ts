import { describe, expect, it } from '@jest/globals';
import { parsePrometheusText } from './prom-text';
import { reconcileStatus } from './reconcile-status';

const gauges = (lines: string[]) => parsePrometheusText(lines.join('\n'));
const now = 1_800_000_000_000;
const at = (agoS: number) => `reconcile_last_run_timestamp_seconds ${now / 1000 - agoS}`;

describe('reconcileStatus', () => {
  it('is ok after a clean, recent run', () => {
    const s = reconcileStatus(gauges([at(60), 'reconcile_last_run_success 1', 'reconcile_divergent_keys_total 0', 'reconcile_divergent_keys{sink="iceberg",table="shop.likes"} 0']), now, 600_000);
    expect(s).toMatchObject({ status: 'ok', divergent: 0, reasons: [] });
    expect(s.ageS).toBeCloseTo(60);
  });

  it('names each divergent sink', () => {
    const s = reconcileStatus(
      gauges([
        at(5),
        'reconcile_last_run_success 1',
        'reconcile_divergent_keys_total 5',
        'reconcile_divergent_keys{sink="druid",table="shop.likes"} 3',
        'reconcile_divergent_keys{sink="druid",table="shop.gifts"} 1',
        'reconcile_divergent_keys{sink="elasticsearch",table="shop.likes"} 1',
      ]),
      now,
      600_000,
    );
    expect(s.status).toBe('down');
    expect(Object.fromEntries(s.bySink)).toEqual({ druid: 4, elasticsearch: 1 });
    expect(s.reasons).toEqual(['4 divergent keys in druid', '1 divergent keys in elasticsearch']);
  });

  it('warns before the first run and when the last one is old; a failed run is down', () => {
    expect(reconcileStatus(gauges(['reconcile_last_run_timestamp_seconds 0']), now, 600_000)).toMatchObject({ status: 'warn', reasons: ['no run finished yet'] });
    expect(reconcileStatus(gauges([at(3600), 'reconcile_last_run_success 1', 'reconcile_divergent_keys_total 0']), now, 600_000)).toMatchObject({
      status: 'warn',
      reasons: ['the last run finished 60 min ago'],
    });
    expect(reconcileStatus(gauges([at(10), 'reconcile_last_run_success 0']), now, 600_000).status).toBe('down');
  });
});
