import { describe, it, expect } from '@jest/globals';
import { AlertRecordSchema, TOPICS } from './index';

const alert = {
  version: '1',
  alertId: 'burst:shop.likes:actor:bot-1:1700000000000',
  rule: 'burst',
  ruleName: 'actor-burst',
  database: 'shop',
  table: 'likes',
  subject: { kind: 'actor', id: 'bot-1' },
  users: ['bot-1'],
  windowStart: 1_700_000_000_000,
  windowEnd: 1_700_000_010_000,
  observed: 50,
  threshold: 50,
  emittedAt: 1_700_000_003_000,
};

describe('alert records', () => {
  it('accepts a complete alert and names the field at fault otherwise', () => {
    expect(AlertRecordSchema.parse(alert)).toEqual(alert);
    const bad = AlertRecordSchema.safeParse({ ...alert, rule: 'spam', users: [] });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues.map((i) => i.path.join('.')).sort()).toEqual(['rule', 'users']);
  });

  it('go to actionbase.alerts', () => {
    expect(TOPICS.alerts).toMatchObject({ envVar: 'ALERTS_TOPIC', defaultName: 'actionbase.alerts' });
  });
});
