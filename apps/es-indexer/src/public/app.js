// The support page: calls the lookup API with the agent's bearer token and renders the pages it returns.
const $ = (s) => document.querySelector(s);
let nextPage = null;
const token = () => $('#token').value.trim();

// Times in the viewer's own zone, to the millisecond (records of one request are milliseconds apart); the
// cell's title keeps the UTC instant.
const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
const timeFormat = new Intl.DateTimeFormat(undefined, {
  year: 'numeric', month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  fractionalSecondDigits: 3, hour12: false,
});
const when = (ms) => timeFormat.format(new Date(ms));

// The API writes 64-bit integers (LONG ids, versions in nanoseconds) as bare digits; `res.json()` would round
// those beyond 2^53 (9007199254740993 becomes ...992). Such a number is read from its source text into a BigInt
// (JSON.parse source text access) and written back as its digits, so the page shows every id exactly.
const exact = (key, value, context) =>
  typeof value === 'number' && !Number.isSafeInteger(value) && /^-?\d+$/.test(context?.source ?? '') ? BigInt(context.source) : value;
const readJson = (res) => res.text().then((text) => JSON.parse(text, exact)).catch(() => ({}));
const jsonText = (value) => JSON.stringify(value, (key, v) => (typeof v === 'bigint' ? JSON.rawJSON(v.toString()) : v), 2);
$('#when-head').textContent = `When (${zone})`;

// A link such as the one `npm start` prints (/#token=...) signs the page in: the token moves into page memory
// and leaves the address bar and the history entry at once, so it is not bookmarked, shared or shown again.
{
  const fragment = new URLSearchParams(location.hash.slice(1));
  const fromLink = fragment.get('token');
  if (fromLink) {
    history.replaceState(null, '', location.pathname + location.search);
    $('#token').value = fromLink;
    void whoami();
  }
}

async function whoami() {
  const status = $('#status');
  const res = await fetch('/api/whoami', { headers: { authorization: `Bearer ${token()}` } });
  const body = await readJson(res);
  status.textContent = res.ok ? visible(`Signed in as ${body.user}.`) : 'The token of the link was refused; enter yours.';
  status.className = res.ok ? '' : 'error';
}

function fmtState(s) {
  if (!s) return '∅';
  return `${s.active ? 'active' : 'inactive'}@${s.version}`;
}

// Control, format and bidi characters (e.g. U+202E, which reverses the text after it) are shown as visible
// \u{...} escapes, so a crafted name cannot pass for another one.
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u2028-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffb]/gu;
const visible = (s) => s.replace(INVISIBLE, (c) => `\\u{${c.codePointAt(0).toString(16).toUpperCase().padStart(4, '0')}}`);
const LIMIT = 120;

/** A cell with its text made visible and, past LIMIT characters, cut with a button that shows the rest. */
function cell(value) {
  const td = document.createElement('td');
  const text = visible(String(value));
  if (text.length <= LIMIT) {
    td.textContent = text;
    return td;
  }
  const span = document.createElement('span');
  span.textContent = `${text.slice(0, LIMIT)}…`;
  const more = document.createElement('button');
  more.type = 'button';
  more.className = 'expand';
  more.textContent = `show all ${text.length} characters`;
  more.addEventListener('click', () => {
    const open = more.dataset.open === '1';
    span.textContent = open ? `${text.slice(0, LIMIT)}…` : text;
    more.textContent = open ? `show all ${text.length} characters` : 'show less';
    more.dataset.open = open ? '0' : '1';
  });
  td.append(span, ' ', more);
  return td;
}

/** A link that runs a lookup on this page (no navigation: the token stays in memory). */
function link(text, title, url) {
  const a = document.createElement('a');
  a.href = '#';
  a.className = 'follow';
  a.title = title;
  a.textContent = visible(text);
  a.addEventListener('click', (e) => {
    e.preventDefault();
    void load(url, false, title);
  });
  return a;
}

const edgeUrl = (item) =>
  `/api/edges/history?${query(item.edgeId ? { database: item.database, table: item.table, id: item.edgeId } : { database: item.database, table: item.table, source: item.source, target: item.target })}`;

function row(item) {
  const tr = document.createElement('tr');
  tr.className = item.kind;
  // A CDC record folds every event applied to its key in one batch: all their types, in order.
  const types = item.types?.length ? item.types : item.type ? [item.type] : [];
  const cells = [
    when(item.at),
    item.kind === 'wal' ? 'request (WAL)' : `outcome (CDC #${item.seq ?? '-'})`,
    `${item.database}.${item.table}`,
    `${item.source} → ${item.target}`,
    types.join(' → '),
    item.status ?? '',
    item.version ?? '',
    item.kind === 'cdc' ? `${fmtState(item.before)} → ${fmtState(item.after)}` : '',
  ];
  for (const [i, c] of cells.entries()) {
    const td = cell(c);
    if (i === 0) td.title = new Date(item.at).toISOString();
    if (i === 1) td.append(' ', link('edge history', `History of ${item.database}.${item.table} ${item.source} → ${item.target}`, edgeUrl(item)));
    if (i === 5) td.className = String(c);
    tr.append(td);
  }
  // Each request id opens that request: its WAL record(s) and the CDC outcome(s) they led to.
  const requests = document.createElement('td');
  for (const [n, id] of item.requestIds.entries()) {
    if (n > 0) requests.append(', ');
    requests.append(link(id.length > 40 ? `${id.slice(0, 39)}…` : id, `Request ${id}: its WAL record and outcome`, `/api/requests/${encodeURIComponent(id)}?${query({})}`));
  }
  tr.append(requests);
  const td = document.createElement('td');
  const reveal = document.createElement('button');
  reveal.type = 'button';
  reveal.className = 'reveal';
  reveal.textContent = 'Reveal…';
  reveal.addEventListener('click', () => void revealRecord(item.id));
  td.append(reveal);
  tr.append(td);
  return tr;
}

// The whole stored record (properties, actor, ...) only on demand, with a reason that goes to the audit log.
async function revealRecord(id) {
  const reason = (window.prompt('Why do you need the full record? Your reason is written to the audit log.') ?? '').trim();
  const status = $('#status');
  if (!reason) return;
  const res = await fetch(`/api/records/${encodeURIComponent(id)}?reason=${encodeURIComponent(reason)}`, { headers: { authorization: `Bearer ${token()}` } });
  const body = await readJson(res);
  if (!res.ok) {
    status.textContent = visible(`Reveal refused (${res.status}): ${body.message ?? ''}`);
    status.className = 'error';
    return;
  }
  $('#revealed-id').textContent = visible(id);
  $('#revealed pre').textContent = visible(jsonText(body.record));
  $('#revealed').hidden = false;
}

async function load(url, append, title) {
  const status = $('#status');
  status.className = '';
  if (!token()) {
    status.textContent = 'Enter your access token first.';
    status.className = 'error';
    return;
  }
  status.textContent = 'Searching…';
  const res = await fetch(url, { headers: { authorization: `Bearer ${token()}` } });
  const body = await readJson(res);
  if (!res.ok) {
    status.textContent = res.status === 401 ? 'Not signed in: the token was refused.' : visible(`Error ${res.status}: ${body.message ?? ''}`);
    status.className = 'error';
    return;
  }
  const tbody = $('#results tbody');
  if (!append) tbody.replaceChildren();
  for (const item of body.items) tbody.append(row(item));
  $('#results').hidden = false;
  nextPage = body.next ? { url, cursor: body.next, title } : null;
  $('#more').hidden = !nextPage;
  status.textContent = visible(`${title ? `${title}: ` : ''}${tbody.children.length} record(s)${nextPage ? ', more available' : ''}.`);
}

// The abuse alerts about the user (apps/abuse-detector), shown above their mutations.
async function loadAlerts(user) {
  const section = $('#alerts');
  const status = $('#alerts-status');
  const tbody = $('#alerts tbody');
  tbody.replaceChildren();
  $('#alerts-user').textContent = visible(user);
  section.hidden = false;
  const res = await fetch(`/api/users/${encodeURIComponent(user)}/alerts?size=50`, { headers: { authorization: `Bearer ${token()}` } });
  const body = await readJson(res);
  if (!res.ok) {
    status.textContent = visible(`Alerts could not be read (error ${res.status}: ${body.message ?? ''}).`);
    status.className = 'error';
    return;
  }
  status.className = '';
  status.textContent = body.items.length === 0 ? 'No alerts.' : visible(`${body.items.length} alert(s)${body.next ? ', more exist' : ''}.`);
  for (const a of body.items) {
    const tr = document.createElement('tr');
    const b = a.baseline ? `mean ${a.baseline.mean}, sd ${a.baseline.stddev}, z ${a.baseline.zScore}` : '';
    for (const text of [`${when(a.windowStart)} – ${when(a.windowEnd)}`, `${a.rule} (${a.ruleName})`, `${a.database}.${a.table}`, `${a.subject.kind} ${a.subject.id}`, `${a.observed} / ${a.threshold}`, b]) {
      tr.append(cell(text));
    }
    tbody.append(tr);
  }
}

// datetime-local values carry no zone: they are the viewer's local time, like the times shown.
const iso = (v) => (v ? new Date(v).toISOString() : undefined);
function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, v);
  q.set('size', '50');
  return q.toString();
}

$('#by-user').addEventListener('submit', (e) => {
  e.preventDefault();
  const f = new FormData(e.target);
  void load(`/api/users/${encodeURIComponent(f.get('user'))}/mutations?${query({ from: iso(f.get('from')), to: iso(f.get('to')) })}`, false);
});
$('#alerts-of-user').addEventListener('submit', (e) => {
  e.preventDefault();
  const status = $('#status');
  if (!token()) {
    status.textContent = 'Enter your access token first.';
    status.className = 'error';
    return;
  }
  void loadAlerts(new FormData(e.target).get('user'));
});
$('#by-edge').addEventListener('submit', (e) => {
  e.preventDefault();
  const f = new FormData(e.target);
  void load(`/api/edges/history?${query({ table: f.get('table'), source: f.get('source'), target: f.get('target') })}`, false);
});
$('#by-id').addEventListener('submit', (e) => {
  e.preventDefault();
  const f = new FormData(e.target);
  void load(`/api/${f.get('what')}/${encodeURIComponent(f.get('id'))}?${query({})}`, false);
});
$('#more').addEventListener('click', () => {
  if (nextPage) void load(`${nextPage.url}&cursor=${encodeURIComponent(nextPage.cursor)}`, true, nextPage.title);
});
