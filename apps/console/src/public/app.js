// The console page: polls /api/state with the person's bearer token and draws the pipeline and its last hour.
const $ = (s) => document.querySelector(s);
const SVG = 'http://www.w3.org/2000/svg';
let token = '';
let timer = null;

// A link such as the one `npm start` prints (/#token=...) signs the page in: the token moves into page memory
// and leaves the address bar and the history entry at once, so it is not bookmarked, shared or shown again.
{
  const fromLink = new URLSearchParams(location.hash.slice(1)).get('token');
  if (fromLink) {
    history.replaceState(null, '', location.pathname + location.search);
    token = fromLink;
  }
}

$('#auth').addEventListener('submit', (e) => {
  e.preventDefault();
  token = $('#token').value.trim();
  void refresh();
});

function setStatus(text, error) {
  $('#status').textContent = text;
  $('#status').className = error ? 'error' : '';
}

async function refresh() {
  clearTimeout(timer);
  if (!token) {
    setStatus('Enter your access token (npm start prints a link that signs you in).', false);
    return;
  }
  let next = 5000;
  try {
    const res = await fetch('/api/state', { headers: { authorization: `Bearer ${token}` } });
    if (res.status === 401) {
      setStatus('The token was refused; enter yours.', true);
      return;
    }
    if (!res.ok) throw new Error(`the console answered ${res.status}`);
    const state = await res.json();
    next = Math.max(1000, state.intervalMs || 5000);
    const down = state.components.filter((c) => c.status === 'down').length;
    const at = state.at ? new Date(state.at).toLocaleTimeString() : 'not yet';
    setStatus(`Signed in as ${state.user}. Sampled at ${at}; ${down ? `${down} component(s) failing` : 'nothing failing'}.`, false);
    draw(state);
  } catch (err) {
    setStatus(`The console does not answer (${err.message}); retrying.`, true);
  }
  timer = setTimeout(() => void refresh(), next);
}

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function box(c) {
  const b = el('div', `box status-${c.status}`);
  b.dataset.id = c.id;
  const h = el('h3');
  h.append(el('span', 'label', c.label), el('span', 'badge', c.status === 'ok' ? 'OK' : c.status === 'warn' ? 'WARN' : 'FAILING'));
  b.append(h);
  const dl = el('dl');
  for (const f of c.figures) {
    const dt = el('dt', '', f.label);
    const dd = el('dd', 'value', f.value);
    dd.dataset.label = f.label;
    dl.append(dt, dd);
  }
  b.append(dl);
  if (c.reasons.length) {
    const ul = el('ul', 'reasons');
    for (const r of c.reasons) ul.append(el('li', '', r));
    b.append(ul);
  }
  return b;
}

function draw(state) {
  for (const col of document.querySelectorAll('#pipeline .column')) {
    for (const b of col.querySelectorAll('.box')) b.remove();
    for (const c of state.components.filter((x) => x.kind === col.dataset.kind)) col.append(box(c));
  }
  drawLinks(state);
  drawCharts(state);
}

function drawLinks(state) {
  const svg = $('#links');
  const area = $('#pipeline').getBoundingClientRect();
  svg.setAttribute('width', String(area.width));
  svg.setAttribute('height', String(area.height));
  svg.replaceChildren();
  const status = Object.fromEntries(state.components.map((c) => [c.id, c.status]));
  const rect = (id) => document.querySelector(`#pipeline .box[data-id="${CSS.escape(id)}"]`)?.getBoundingClientRect();
  for (const l of state.links) {
    const a = rect(l.from);
    const b = rect(l.to);
    if (!a || !b) continue;
    const p = document.createElementNS(SVG, 'path');
    let d;
    if (b.left > a.left) {
      const x1 = a.right - area.left, y1 = a.top + a.height / 2 - area.top;
      const x2 = b.left - area.left, y2 = b.top + b.height / 2 - area.top;
      const mid = (x1 + x2) / 2;
      d = `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`;
    } else {
      // A write back to an earlier column (the async processor applies queued writes through the core): below both.
      const x1 = a.left + a.width / 2 - area.left, y1 = a.bottom - area.top;
      const x2 = b.left + b.width / 2 - area.left, y2 = b.bottom - area.top;
      const low = Math.max(y1, y2) + 24;
      d = `M${x1},${y1} C${x1},${low} ${x2},${low} ${x2},${y2}`;
    }
    p.setAttribute('d', d);
    if (status[l.from] === 'down' || status[l.to] === 'down') p.setAttribute('class', 'down');
    svg.append(p);
  }
}

function fmt(v, unit) {
  if (v === null || v === undefined) return '–';
  const n = Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(1);
  return unit === '/s' ? `${n}/s` : `${n} ${unit}`;
}

function drawCharts(state) {
  const box = $('#charts');
  box.replaceChildren();
  const W = 300, H = 70;
  for (const [id, s] of Object.entries(state.series)) {
    const pts = s.points;
    const c = el('div', 'chart');
    c.dataset.series = id;
    const h = el('h4');
    const last = [...pts].reverse().find((p) => p[1] !== null);
    h.append(el('span', '', s.label), el('span', 'now', fmt(last ? last[1] : null, s.unit)));
    c.append(h);
    const svg = document.createElementNS(SVG, 'svg');
    svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
    svg.setAttribute('preserveAspectRatio', 'none');
    const t1 = state.at || Date.now();
    const t0 = Math.min(pts.length ? pts[0][0] : t1, t1 - 60_000);
    const max = Math.max(1e-9, ...pts.map((p) => p[1] ?? 0));
    const x = (t) => ((t - t0) / Math.max(1, t1 - t0)) * W;
    const y = (v) => H - 12 - (v / max) * (H - 22);
    const grid = document.createElementNS(SVG, 'line');
    for (const [k, v] of Object.entries({ x1: 0, x2: W, y1: H - 12, y2: H - 12 })) grid.setAttribute(k, String(v));
    svg.append(grid);
    // A null (the source did not answer) breaks the line.
    let seg = [];
    const flush = () => {
      if (seg.length) {
        const pl = document.createElementNS(SVG, 'polyline');
        pl.setAttribute('points', seg.join(' '));
        svg.append(pl);
      }
      seg = [];
    };
    for (const [t, v] of pts) {
      if (v === null) flush();
      else seg.push(`${x(t).toFixed(1)},${y(v).toFixed(1)}`);
    }
    flush();
    const label = document.createElementNS(SVG, 'text');
    label.setAttribute('class', 'axis');
    label.setAttribute('x', '2');
    label.setAttribute('y', String(H - 1));
    label.textContent = `last ${Math.round((t1 - t0) / 60_000)} min · max ${fmt(max, s.unit)}`;
    svg.append(label);
    c.append(svg);
    box.append(c);
  }
}

window.addEventListener('resize', () => void refresh());
void refresh();
