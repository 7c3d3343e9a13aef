// The support page: calls the lookup API with the agent's bearer token and renders the pages it returns.
const $ = (s) => document.querySelector(s);
let nextPage = null;

function fmtState(s) {
  if (!s) return '∅';
  return `${s.active ? 'active' : 'inactive'}@${s.version}`;
}

function row(item) {
  const tr = document.createElement('tr');
  tr.className = item.kind;
  const cells = [
    new Date(item.at).toISOString().replace('T', ' ').replace('Z', ''),
    item.kind === 'wal' ? 'request (WAL)' : `outcome (CDC #${item.seq ?? '-'})`,
    `${item.database}.${item.table}`,
    `${item.source} → ${item.target}`,
    item.type ?? '',
    item.status ?? '',
    item.version ?? '',
    item.kind === 'cdc' ? `${fmtState(item.before)} → ${fmtState(item.after)}` : '',
    item.requestIds.join(', '),
  ];
  for (const [i, c] of cells.entries()) {
    const td = document.createElement('td');
    td.textContent = String(c);
    if (i === 5) td.className = String(c);
    tr.append(td);
  }
  return tr;
}

async function load(url, append) {
  const token = $('#token').value.trim();
  const status = $('#status');
  status.className = '';
  if (!token) {
    status.textContent = 'Enter your access token first.';
    status.className = 'error';
    return;
  }
  status.textContent = 'Searching…';
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) {
    status.textContent = res.status === 401 ? 'Not signed in: the token was refused.' : `Error ${res.status}: ${body.message ?? ''}`;
    status.className = 'error';
    return;
  }
  const tbody = $('#results tbody');
  if (!append) tbody.replaceChildren();
  for (const item of body.items) tbody.append(row(item));
  $('#results').hidden = false;
  nextPage = body.next ? { url, cursor: body.next } : null;
  $('#more').hidden = !nextPage;
  status.textContent = `${tbody.children.length} record(s)${nextPage ? ', more available' : ''}.`;
}

const iso = (v) => (v ? new Date(`${v}Z`).toISOString() : undefined);
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
  if (nextPage) void load(`${nextPage.url}&cursor=${encodeURIComponent(nextPage.cursor)}`, true);
});
