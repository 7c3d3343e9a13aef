// Loaded into a core under test with `--import` (core-single-edge.ts --trace): records, with wall-clock
// times (ms since the epoch, comparable across processes), what can hold a request up inside the core,
// and writes it as JSON to CORE_TRACE_FILE on SIGUSR2 (the bench asks; the file is replaced) and when the core exits:
//   ['gc', start, ms, kind]          every GC pause (perf_hooks 'gc' entries; kind 1 scavenge, 4 mark-compact,
//                                    8 incremental marking, 16 weak callbacks)
//   ['stall', start, ms, cpuMs]      a 1 ms timer that fired more than 3 ms late: the event loop was held;
//                                    cpuMs is the main thread's CPU time over the gap (near ms: the thread was
//                                    working; far below: it was off the CPU: descheduled, or blocked in a syscall)
//   ['req', start, ms, kind]         each HTTP request from the 'request' event to the response's 'finish'
// Plain JavaScript, so that it loads before any TypeScript loader.
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import { PerformanceObserver, performance } from 'node:perf_hooks';

const file = process.env.CORE_TRACE_FILE;
if (file) {
  const origin = performance.timeOrigin;
  const now = () => origin + performance.now();
  const cpu = () => {
    const u = process.threadCpuUsage();
    return (u.user + u.system) / 1000;
  };
  const events = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) events.push(['gc', origin + e.startTime, e.duration, e.detail?.kind ?? 0]);
  }).observe({ entryTypes: ['gc'] });
  let last = now();
  let lastCpu = cpu();
  const tick = () => {
    const t = now();
    const c = cpu();
    if (t - last > 3) events.push(['stall', last, t - last, c - lastCpu]);
    last = t;
    lastCpu = c;
    setTimeout(tick, 1).unref();
  };
  setTimeout(tick, 1).unref();
  const emit = http.Server.prototype.emit;
  http.Server.prototype.emit = function (name, req, res) {
    if (name === 'request') {
      const start = now();
      const kind = req.url.includes('/graph/health') ? 'probe' : req.method === 'GET' ? 'read' : 'write';
      res.once('finish', () => events.push(['req', start, now() - start, kind]));
    }
    return emit.apply(this, arguments);
  };
  const dump = () => writeFileSync(file, JSON.stringify(events));
  process.on('SIGUSR2', dump);
  process.on('exit', dump);
}
