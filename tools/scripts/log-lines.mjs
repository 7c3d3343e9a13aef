#!/usr/bin/env node
// Turns the apps' JSON log lines (pino) into one short readable line each, for the terminal of `npm start`.
// Input is `tail -F` of .data/logs/<app>.log files: its "==> path <==" headers tell which app wrote the
// lines that follow. The files keep the full JSON; this only shortens what a person watches.
//   tail -n0 -F .data/logs/*.log | node tools/scripts/log-lines.mjs [--min-level warn]
import { createInterface } from 'node:readline';
import { basename } from 'node:path';

const NAMES = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
const LEVELS = Object.fromEntries(Object.entries(NAMES).map(([n, name]) => [name, Number(n)]));
const i = process.argv.indexOf('--min-level');
const minLevel = LEVELS[i > 0 ? process.argv[i + 1] : 'info'] ?? 30;
const colour = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code, s) => (colour ? `\x1b[${code}m${s}\x1b[0m` : s);
const LEVEL_COLOUR = { 40: 33, 50: 31, 60: 31 };
// Fields every line has, or that only matter to machines: left in the file, kept off the terminal.
const SKIP = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'name', 'v', 'app', 'component', 'assignment']);
const MAX = 140;

let app = '';
const short = (v) => {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}…` : s;
};

createInterface({ input: process.stdin, crlfDelay: Infinity }).on('line', (line) => {
  const header = /^==> (.+) <==$/.exec(line);
  if (header) {
    app = basename(header[1], '.log');
    return;
  }
  if (!line.trim() || line.startsWith('tail: ')) return;
  let rec;
  try {
    rec = JSON.parse(line);
  } catch {
    rec = undefined;
  }
  const who = paint(36, app.padEnd(15));
  if (!rec || typeof rec !== 'object') {
    // Not JSON (a stack trace, tsx's own output): shown as is, since it is usually the reason something failed.
    process.stdout.write(`${'        '} ${who} ${line.slice(0, MAX)}\n`);
    return;
  }
  const level = typeof rec.level === 'number' ? rec.level : (LEVELS[rec.level] ?? 30);
  if (level < minLevel) return;
  const t = new Date(typeof rec.time === 'number' ? rec.time : Date.now()).toTimeString().slice(0, 8);
  const extras = Object.entries(rec)
    .filter(([k]) => !SKIP.has(k))
    .map(([k, v]) => (k === 'err' && v && typeof v === 'object' ? `err=${short(v.message ?? v.type)}` : `${k}=${short(v)}`));
  let text = [rec.msg ?? '', ...extras].filter(Boolean).join(' ');
  if (text.length > MAX) text = `${text.slice(0, MAX - 1)}…`;
  const name = (NAMES[level] ?? String(level)).padEnd(5);
  process.stdout.write(`${t} ${who} ${LEVEL_COLOUR[level] ? paint(LEVEL_COLOUR[level], name) : name} ${text}\n`);
});
