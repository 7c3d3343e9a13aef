import { describe, it, expect } from '@jest/globals';
import { sleep } from './backoff';

describe('the runtime sleep', () => {
  it('ends early, with ABORTED, when its signal aborts', async () => {
    const ac = new AbortController();
    const started = Date.now();
    const p = sleep(60_000, ac.signal);
    ac.abort();
    await expect(p).rejects.toMatchObject({ code: 'ABORTED' });
    expect(Date.now() - started).toBeLessThan(1_000);
    await expect(sleep(10, ac.signal)).rejects.toMatchObject({ code: 'ABORTED' });
  });
});
