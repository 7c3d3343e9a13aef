/**
 * The HTTP server under abuse: stalled and idle connections, too many connections, saturation,
 * big batches next to health probes, tokens, and the environment of `nx serve`. Real core (child
 * process), real Kafka.
 */
import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { ensureKafka } from '@pipeline/stack';
import { api, freePort, repoRoot, startCoreOnFreshTopics, tempStorage, waitFor, type CoreProcess } from '@pipeline/testing';
import { base, createTable, expectRefusedAndUnchanged, insert, raw, SENTINEL, snapshot, TABLE, type Topics } from './harness';

/** A raw connection that sends `text` and then stays silent; resolves what the server answered once it closes. */
function stall(url: string, text: string): { socket: Socket; closed: Promise<string> } {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  let answer = '';
  socket.on('data', (d) => (answer += d.toString()));
  socket.on('error', () => undefined);
  socket.write(text);
  const closed = new Promise<string>((resolve) => socket.on('close', () => resolve(answer)));
  return { socket, closed };
}

const postHead = (path: string, length: number) =>
  `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`;

describe('abuse: the server', () => {
  let bootstrap: string;
  let core: CoreProcess | undefined;
  let t: Topics;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    bootstrap = (await ensureKafka()).bootstrap;
  });
  const newCore = async (env: Record<string, string> = {}) => {
    const started = await startCoreOnFreshTopics(bootstrap, 'abuse-srv', env);
    core = started.core;
    t = { bootstrap, wal: started.wal, cdc: started.cdc };
    await createTable(core.url, TABLE);
    await createTable(core.url, SENTINEL);
    return core;
  };
  afterEach(async () => {
    sockets.splice(0).forEach((s) => s.destroy());
    await core?.stop('SIGKILL');
    core = undefined;
  });

  it('a request stalled mid-body or mid-headers is answered 408 and closed by the request timeout; nothing is written', async () => {
    const c = await newCore({ REQUEST_TIMEOUT_MS: '1500', HEADERS_TIMEOUT_MS: '1000' });
    const before = await snapshot(c, t);
    const body = JSON.stringify({ mutations: [insert('a', 'b', 1, { n: 1 })] });
    const midBody = stall(c.url, postHead(`${base()}/edges`, body.length) + body.slice(0, 10));
    const midHeaders = stall(c.url, 'GET /graph/health HTTP/1.1\r\nHost: x\r\n');
    sockets.push(midBody.socket, midHeaders.socket);
    const [a, b] = await Promise.race([
      Promise.all([midBody.closed, midHeaders.closed]),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('stalled connections still open after 20 s')), 20_000)),
    ]);
    expect(a).toMatch(/^HTTP\/1.1 408/);
    expect(b).toMatch(/^HTTP\/1.1 408/);
    expect(await snapshot(c, t)).toEqual(before);
  });

  it('connections beyond MAX_CONNECTIONS are refused; the core serves again once they close', async () => {
    const c = await newCore({ MAX_CONNECTIONS: '4' });
    const held = Array.from({ length: 4 }, () => stall(c.url, 'GET /graph/health HTTP/1.1\r\nHost: x\r\n'));
    sockets.push(...held.map((h) => h.socket));
    await new Promise((r) => setTimeout(r, 300)); // let the server accept them
    const extra = stall(c.url, 'GET /graph/health HTTP/1.1\r\nHost: x\r\n\r\n');
    sockets.push(extra.socket);
    expect(await extra.closed).toBe(''); // dropped without an answer
    held.forEach((h) => h.socket.destroy());
    await waitFor('health after the held connections closed', async () => (await fetch(`${c.url}/graph/health`)).ok);
  });

  it('admission control: past MAX_INFLIGHT_REQUESTS or MAX_INFLIGHT_BODY_BYTES a request gets 503 with Retry-After and changes nothing; probes still answer', async () => {
    const c = await newCore({ MAX_INFLIGHT_REQUESTS: '2', MAX_INFLIGHT_BODY_BYTES: '1000000', REQUEST_TIMEOUT_MS: '60000' });
    const before = await snapshot(c, t);
    // two requests in progress (headers received, body still coming)
    const a = stall(c.url, postHead(`${base()}/edges`, 100) + '{');
    const b = stall(c.url, postHead(`${base()}/edges`, 100) + '{');
    sockets.push(a.socket, b.socket);
    const inflight = async () => ((await (await fetch(`${c.url}/graph/health/details`)).json()) as { inflight: { requests: number; bodyBytes: number } }).inflight;
    await waitFor('two requests in progress', async () => (await inflight()).requests === 2);
    const body = JSON.stringify({ mutations: [insert('a', 'new', 1, { n: 1 })] });
    const refused = await raw(c.url, 'POST', `${base()}/edges`, body);
    expect(refused.status).toBe(503);
    expect(refused.body.code).toBe('OVERLOADED');
    expect(refused.body.message).toMatch(/MAX_INFLIGHT_REQUESTS/);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect((await fetch(`${c.url}/graph/health/readiness`)).status).toBe(200);
    a.socket.destroy();
    b.socket.destroy();
    await waitFor('no request in progress', async () => (await inflight()).requests === 0);
    // by bytes: one request declaring 900 kB in progress leaves no room for another 200 kB
    const big = stall(c.url, postHead(`${base()}/edges`, 900_000) + '{');
    sockets.push(big.socket);
    await waitFor('900 kB in progress', async () => (await inflight()).bodyBytes === 900_000);
    const padded = JSON.stringify({ mutations: [insert('a', 'new', 1, { n: 1, note: 'p'.repeat(200_000) })] });
    const byBytes = await raw(c.url, 'POST', `${base()}/edges`, padded);
    expect(byBytes.status).toBe(503);
    expect(byBytes.body.message).toMatch(/MAX_INFLIGHT_BODY_BYTES/);
    big.socket.destroy();
    expect(await snapshot(c, t)).toEqual(before);
    // and once the load is gone, the same request goes through
    await waitFor('the request admitted', async () => (await raw(c.url, 'POST', `${base()}/edges`, body)).status === 200);
  });

  it('health and readiness keep answering while eight clients send big batches', async () => {
    const c = await newCore();
    const batch = (k: number) =>
      JSON.stringify({ mutations: Array.from({ length: 5000 }, (_, i) => insert(`u${k}-${i % 400}`, `t${i}`, 1000 + i, { n: i, note: 'n'.repeat(200) })) });
    let inFlight = true;
    const probes: number[] = [];
    const prober = (async () => {
      while (inFlight) {
        const r = await fetch(`${c.url}/graph/health/readiness`);
        probes.push(r.status);
        await new Promise((res) => setTimeout(res, 10));
      }
    })();
    const results = await Promise.all(Array.from({ length: 8 }, (_, k) => raw(c.url, 'POST', `${base()}/edges`, batch(k))));
    const answeredDuringLoad = probes.length;
    inFlight = false;
    await prober;
    expect(results.map((r) => r.status)).toEqual(Array(8).fill(200));
    // probes were answered between the slices of the batches, not after them
    expect(answeredDuringLoad).toBeGreaterThanOrEqual(8);
    expect(probes.every((s) => s === 200)).toBe(true);
  });

  it('the API token is Bearer only; a bare token or another scheme is 401 and changes nothing', async () => {
    ({ core } = await startCoreOnFreshTopics(bootstrap, 'abuse-tok', { API_TOKEN: 's3cret' }));
    const c = core;
    const body = JSON.stringify({ database: 'tok', comment: 'token test' });
    for (const header of ['s3cret', 'Basic s3cret', 'Bearer s3cre', 'Bearer s3cret2', 'Bearer  s3cret', 'Bearer', '']) {
      const r = await raw(c.url, 'POST', '/graph/v3/databases', body, header ? { authorization: header } : {});
      expect([header, r.status]).toEqual([header, 401]);
    }
    const list = await raw(c.url, 'GET', '/graph/v3/databases', undefined, { authorization: 'Bearer s3cret' });
    expect(list.status).toBe(200);
    expect(JSON.stringify(list.body)).not.toContain('"tok"');
    expect((await raw(c.url, 'GET', '/graph/health')).status).toBe(200);
    const created = await raw(c.url, 'POST', '/graph/v3/databases', body, { authorization: 'Bearer s3cret' });
    expect(created.status).toBeLessThan(300);
  });

  it('npx nx serve actionbase keeps the caller environment: KAFKA_BROKERS empty means JSON lines on stdout', async () => {
    const port = await freePort();
    const storage = tempStorage();
    const child = spawn('npx', ['nx', 'serve', 'actionbase'], {
      cwd: repoRoot,
      detached: true,
      env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false', KAFKA_BROKERS: '', PORT: String(port), HOST: '127.0.0.1', STORAGE_PATH: storage, HEARTBEAT_INTERVAL_MS: '3600000' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await waitFor(`the served core (${out.slice(-500)})`, async () => (await fetch(`http://127.0.0.1:${port}/graph/health`).catch(() => undefined))?.ok, 180_000);
      // the start-up heartbeat went to stdout, not to a broker
      await waitFor('a WAL line on stdout', async () => out.includes('"topic":"wal"'), 10_000);
      expect(out).toMatch(/KAFKA_BROKERS is not set/);
    } finally {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
      // nx runs the command in a process group of its own, which the kill above misses: end every process
      // that carries this test's storage path in its environment.
      killByEnvironment(`STORAGE_PATH=${storage}`);
    }
  }, 240_000);

  it('a rejected batch changes nothing even when other keys of it are valid', async () => {
    const c = await newCore();
    const before = await snapshot(c, t);
    const body = JSON.stringify({ mutations: [insert('a', 'ok1', 1, { n: 1 }), insert('a', 'ok2', 1, { n: 2 }), insert('a ', 'bad', 1, { n: 3 })] });
    await expectRefusedAndUnchanged(c, t, before, await raw(c.url, 'POST', `${base()}/edges`, body), 400, /whitespace/);
    const count = await api(c.url, 'GET', `${base()}/edges/count?start=a&direction=OUT`);
    expect(count.body.count).toBe(0);
  });
});

/** SIGKILL to every process whose environment holds `entry` (Linux /proc). */
function killByEnvironment(entry: string): void {
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(entry)) process.kill(Number(pid), 'SIGKILL');
    } catch {
      // gone already, or not ours to read
    }
  }
}
