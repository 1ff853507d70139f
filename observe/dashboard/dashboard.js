// conceptwatch's live dashboard. Plain JS, no build step: every number comes
// from GET /api/<command>, which answers what `conceptwatch --json <command>`
// prints, and the events arrive live from GET /events (server-sent events).
'use strict';

const $ = (id) => document.getElementById(id);
const SVG = 'http://www.w3.org/2000/svg';
const COLOURS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22'];
const HEATMAP_FEATURES = 120;  // rows fetched per heatmap (one `feature` query each)

const state = {
  run: null, tap: null,
  events: new Map(),    // "run/seq" -> event: the history and the live feed, without duplicates
  received: new Map(),  // "run/seq" -> Date.now() when it came live (data-received: the browser test's latency)
  heatmapKey: '',       // run/tap/snapshots the heatmap was drawn for
  feature: null,        // the feature shown, if any
};

async function api(command, params = {}) {
  const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== null && v !== undefined));
  const response = await fetch(`api/${command}?${query}`);
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

// Runs `work` on every item, at most `width` at a time: the port has few threads.
async function mapLimited(items, width, work) {
  const out = new Array(items.length);
  let next = 0;
  const lane = async () => { while (next < items.length) { const i = next++; out[i] = await work(items[i]); } };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, lane));
  return out;
}

function el(tag, attrs = {}, text) {
  const node = tag.startsWith('svg:') ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

const fmt = (v, digits = 3) => (v === null || v === undefined ? '–' : typeof v === 'number' ? +v.toPrecision(digits) + '' : String(v));

// ---- charts: SVG lines on a log-step axis (snapshots are log-spaced early) ----

const logStep = (step) => Math.log1p(Math.max(0, step));

function stepTicks(maxStep) {
  const ticks = [0];
  for (let t = 1; t <= maxStep; t *= 10) ticks.push(t);
  if (maxStep > 0 && !ticks.includes(maxStep)) ticks.push(maxStep);
  return ticks;
}

// series: [{name, points: [[step, value]], colour}]; opts: {title, width, height, scaleEach, yRange}
function lineChart(series, opts = {}) {
  const W = opts.width || 300, H = opts.height || 150, L = 44, R = 10, T = 18, B = 22;
  const svg = el('svg:svg', { width: W, height: H, class: 'chart' });
  const all = series.flatMap((s) => s.points).filter((p) => Number.isFinite(p[1]));
  const maxStep = Math.max(1, ...all.map((p) => p[0]));
  const x = (step) => L + (W - L - R) * logStep(step) / logStep(maxStep);
  let [lo, hi] = opts.yRange || [Math.min(...all.map((p) => p[1])), Math.max(...all.map((p) => p[1]))];
  if (!Number.isFinite(lo)) [lo, hi] = [0, 1];
  if (hi === lo) { hi += 0.5; lo -= 0.5; }
  const y = (v) => T + (H - T - B) * (1 - (v - lo) / (hi - lo));
  if (opts.title) svg.append(el('svg:text', { x: L, y: 12, class: 'title' }, opts.title));
  svg.append(el('svg:line', { x1: L, y1: H - B, x2: W - R, y2: H - B, class: 'axis' }));
  svg.append(el('svg:line', { x1: L, y1: T, x2: L, y2: H - B, class: 'axis' }));
  for (const t of stepTicks(maxStep)) svg.append(el('svg:text', { x: x(t), y: H - 8, 'text-anchor': 'middle' }, t));
  if (!opts.scaleEach) {
    svg.append(el('svg:text', { x: L - 4, y: y(hi) + 4, 'text-anchor': 'end' }, fmt(hi)));
    svg.append(el('svg:text', { x: L - 4, y: y(lo), 'text-anchor': 'end' }, fmt(lo)));
  }
  series.forEach((s, i) => {
    const pts = s.points.filter((p) => Number.isFinite(p[1]));
    if (!pts.length) return;
    let sy = y;
    if (opts.scaleEach) {  // each series on its own range: shapes, not values
      const a = Math.min(...pts.map((p) => p[1])), b = Math.max(...pts.map((p) => p[1]));
      sy = (v) => T + (H - T - B) * (1 - (b === a ? 0.5 : (v - a) / (b - a)));
    }
    const path = pts.map((p, j) => `${j ? 'L' : 'M'}${x(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join('');
    const line = el('svg:path', { d: path, fill: 'none', stroke: s.colour || COLOURS[i % COLOURS.length], 'stroke-width': 1.5 });
    line.append(el('svg:title', {}, s.name));
    svg.append(line);
  });
  svg.stepX = x;  // for overlays (the timeline's transitions)
  svg.plot = { L, R, T, B, W, H };
  return svg;
}

// The same colour for the same name (a phase label) on every redraw.
const colourOf = (name) => COLOURS[[...name].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7) % COLOURS.length];

function legend(series) {
  const p = el('p', { class: 'hint' });
  series.forEach((s, i) => {
    const key = el('span', { style: `color:${s.colour || COLOURS[i % COLOURS.length]}` }, '■ ');
    p.append(key, document.createTextNode(s.name + '  '));
  });
  return p;
}

// ---- runs and taps ----

async function refreshRuns() {
  const [runs, status] = await Promise.all([api('runs'), api('status')]);
  const d = status.daemon || {};
  const store = d.store || {};
  const storeText = store.writable !== false ? '' : store.read_only ? ' · read-only (--read-only)'
    : ` · STORE NOT WRITABLE, new data refused: ${store.error}`;
  $('daemon').textContent = `up ${Math.round(d.uptime_s || 0)} s · ${status.snapshots_stored} snapshots stored${storeText}`;
  const list = $('runs');
  list.replaceChildren();
  if (!runs.length) list.append(el('li', { class: 'muted' }, 'no run yet'));
  for (const run of runs) {
    const item = el('li', {}, run.run);
    for (const tap of run.taps) {
      const button = el('button', {}, `${tap.name} · ${tap.snapshots} snapshots, step ${tap.last_step}`);
      if (run.run === state.run && tap.name === state.tap) button.classList.add('selected');
      button.onclick = () => select(run.run, tap.name);
      item.append(button);
    }
    list.append(item);
  }
  if (!state.run && runs.length && runs[0].taps.length) select(runs[0].run, runs[0].taps[0].name);
}

function select(run, tap) {
  Object.assign(state, { run, tap, heatmapKey: '', feature: null });
  $('feature').hidden = true;
  $('title').textContent = `${run} / ${tap}`;
  for (const b of document.querySelectorAll('nav button')) b.classList.remove('selected');
  refreshRuns().catch(showError);
  refreshTap().catch(showError);
}

// ---- one tap: crosscoder metrics, heatmap, phases ----

async function refreshTap() {
  if (!state.run) return;
  const target = { run: state.run, tap: state.tap };
  const [crosscoder, phases, snapshots] = await Promise.all([
    api('crosscoder', target).catch(() => null),  // 400 until the first update
    api('phases', target).catch(() => null),
    api('snapshots', target),
  ]);
  if (target.run !== state.run || target.tap !== state.tap) return;  // another tap was picked meanwhile
  if (crosscoder) drawMetrics(crosscoder);
  drawTimeline(phases, snapshots);
  const key = `${target.run}/${target.tap}/${crosscoder ? crosscoder.snapshots.length : 0}`;
  if (crosscoder && key !== state.heatmapKey) {
    state.heatmapKey = key;
    await drawHeatmap(target);
  }
}

function drawMetrics(crosscoder) {
  const rows = crosscoder.snapshots;
  const series = (field) => rows.map((r) => [r.step, r[field]]);
  $('metrics').replaceChildren(
    // Held-out rows: never trained on (crosscoder/held_out_rows.h); far
    // below the trained rows' line, the crosscoder memorises the probe set.
    lineChart([{ name: 'trained rows', points: series('explained_variance') },
               { name: 'held-out rows', points: series('held_out_explained_variance'), colour: COLOURS[2] }],
              { title: 'explained variance (EV)' }),
    lineChart([{ name: 'L0', points: series('l0'), colour: COLOURS[1] }], { title: 'L0 (active features per token)' }),
    lineChart([{ name: 'dead fraction', points: series('dead_fraction'), colour: COLOURS[3] }], { title: 'dead fraction', yRange: [0, 1] }));
}

// Viridis at five stops, interpolated: readable in grey too.
const VIRIDIS = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
function viridis(v) {
  const t = Math.min(1, Math.max(0, Number.isFinite(v) ? v : 0)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(t)), f = t - i;
  return `rgb(${VIRIDIS[i].map((c, k) => Math.round(c + f * (VIRIDIS[i + 1][k] - c))).join(',')})`;
}

async function drawHeatmap(target) {
  const list = await api('features', { ...target, sort: 'emergence', filter: 'live', limit: HEATMAP_FEATURES });
  const details = await mapLimited(list.features, 4, (f) => api('feature', { ...target, id: f.feature }));
  const steps = details.length ? details[0].trajectory.map((p) => p.step) : [];
  const rows = details.map((d) => ({ feature: d.feature, norms: d.trajectory.map((p) => p.normalised_norm) }));
  const canvas = $('heatmap');
  const L = 48, B = 34, R = 70, T = 6;
  const cellW = Math.max(4, Math.min(28, Math.floor(640 / Math.max(1, steps.length))));
  const cellH = Math.max(3, Math.min(14, Math.floor(420 / Math.max(1, rows.length))));
  canvas.dataset.snapshots = steps.length;
  canvas.width = L + cellW * steps.length + R;
  canvas.height = T + cellH * rows.length + B;
  const g = canvas.getContext('2d');
  g.fillStyle = '#fff';
  g.fillRect(0, 0, canvas.width, canvas.height);
  rows.forEach((row, r) => row.norms.forEach((v, c) => {
    g.fillStyle = viridis(v);
    g.fillRect(L + c * cellW, T + r * cellH, cellW, cellH);
  }));
  g.fillStyle = '#6b7280';
  g.font = '10px system-ui, sans-serif';
  g.textAlign = 'right';
  const every = Math.ceil(12 / cellH);
  rows.forEach((row, r) => { if (r % every === 0) g.fillText(row.feature, L - 4, T + r * cellH + cellH / 2 + 3); });
  g.textAlign = 'center';
  const everyCol = Math.ceil(40 / cellW);
  steps.forEach((s, c) => { if (c % everyCol === 0 || c === steps.length - 1) g.fillText(s, L + c * cellW + cellW / 2, T + rows.length * cellH + 12); });
  g.fillText('step (snapshots)', L + cellW * steps.length / 2, canvas.height - 4);
  for (let i = 0; i <= 50; ++i) {  // colour bar, 0 at the bottom
    g.fillStyle = viridis(i / 50);
    g.fillRect(canvas.width - R + 16, T + (1 - i / 50) * 100, 12, 100 / 50 + 1);
  }
  g.fillStyle = '#6b7280';
  g.textAlign = 'left';
  g.fillText('1', canvas.width - R + 32, T + 8);
  g.fillText('0', canvas.width - R + 32, T + 104);
  g.fillText('norm', canvas.width - R + 12, T + 118);
  if (!rows.length) { g.fillText('no live features yet', L, T + 20); }
  const cellAt = (event) => {
    const c = Math.floor((event.offsetX - L) / cellW), r = Math.floor((event.offsetY - T) / cellH);
    return r >= 0 && r < rows.length && c >= 0 && c < steps.length ? { r, c } : null;
  };
  const tooltip = $('tooltip');
  canvas.onmousemove = (event) => {
    const cell = cellAt(event);
    tooltip.hidden = !cell;
    if (!cell) return;
    tooltip.textContent = `feature ${rows[cell.r].feature} · step ${steps[cell.c]} · norm ${fmt(rows[cell.r].norms[cell.c])}`;
    tooltip.style.left = `${event.offsetX + 12}px`;
    tooltip.style.top = `${event.offsetY + 12}px`;
  };
  canvas.onmouseleave = () => { tooltip.hidden = true; };
  canvas.onclick = (event) => { const cell = cellAt(event); if (cell) showFeature(rows[cell.r].feature); };
}

// ---- one feature: trajectory, frequency, evidence, contexts ----

async function showFeature(id) {
  const f = await api('feature', { run: state.run, tap: state.tap, id });
  state.feature = id;
  $('feature').hidden = false;
  $('feature-title').textContent = `feature ${f.feature} of ${f.run} / ${f.tap}`;
  const maxFreq = Math.max(...f.trajectory.map((p) => p.frequency), 1e-12);
  const series = [
    { name: 'normalised decoder norm', points: f.trajectory.map((p) => [p.step, p.normalised_norm]) },
    { name: `activation frequency (÷ its max, ${fmt(maxFreq)})`, points: f.trajectory.map((p) => [p.step, p.frequency / maxFreq]) },
  ];
  const body = $('feature-body');
  body.replaceChildren(lineChart(series, { width: 520, height: 180, yRange: [0, 1] }), legend(series));
  const ev = f.emergence_evidence;
  body.append(el('p', {}, `emerged at step ${fmt(f.emerged_step)}, strengthened at ${fmt(f.strengthened_step)}, ` +
    `faded at ${fmt(f.faded_step)}` +
    (f.transient_step != null ? `, transient at step ${f.transient_step} (one snapshot; not in the activations before or after)` : '') +
    `; frequency ${fmt(f.frequency)}, contextuality ${fmt(f.contextuality)}` +
    (ev ? `; evidence for the ${ev.kind} at step ${ev.step}: ${ev.verdict} (norm ${fmt(ev.normalised_norm_before)} → ` +
      `${fmt(ev.normalised_norm_at)}, activation strength ${fmt(ev.activation_strength_before)} → ${fmt(ev.activation_strength_at)})` : '')));
  const table = el('table', { class: 'contexts' });
  for (const c of f.top_contexts) {
    const tr = el('tr');
    tr.append(el('td', {}, fmt(c.activation)), el('td', {}, c.text || `token ${c.token_index}`));
    table.append(tr);
  }
  body.append(el('h3', {}, 'top contexts (latest snapshot)'),
    f.top_contexts.length ? table : el('p', { class: 'muted' }, 'none: the feature does not fire on the probe set now'));
  if (f.events.length) body.append(el('p', { class: 'hint' }, f.events.map(describe).join(' · ')));
  $('feature').scrollIntoView({ block: 'nearest' });
}

// ---- phases: scalars on a log-step axis, labels, transitions ----

function drawTimeline(phases, snapshots) {
  const names = [...new Set(snapshots.flatMap((s) => Object.keys(s.scalars)))];
  const series = names.map((name) => ({ name, points: snapshots.filter((s) => name in s.scalars).map((s) => [s.step, s.scalars[name]]) }));
  const width = Math.max(520, $('timeline').clientWidth || 0);
  if (!series.length) series.push({ name: '(the job sent no scalars)', points: snapshots.map((s) => [s.step, 0]) });
  const svg = lineChart(series, { width, height: 220, scaleEach: true });
  const { T, B, H } = svg.plot;
  const transitions = phases ? phases.transitions : [];
  if (phases) {  // phase labels: one band per run of equal labels along the top
    let start = 0;
    const rows = phases.series.filter((r) => r.phase);
    rows.forEach((r, i) => {
      if (i + 1 < rows.length && rows[i + 1].phase === r.phase) return;
      const x0 = svg.stepX(rows[start].step), x1 = svg.stepX(i + 1 < rows.length ? rows[i + 1].step : r.step);
      svg.append(el('svg:rect', { x: x0, y: T - 16, width: Math.max(2, x1 - x0), height: 5, fill: colourOf(r.phase), class: 'phase' }));
      svg.append(el('svg:text', { x: x0 + 2, y: T - 2, class: 'phase-label' }, r.phase));
      start = i + 1;
    });
  }
  for (const t of transitions) {
    const g = el('svg:g', { class: 'transition', 'data-onset': t.onset_step });
    g.append(el('svg:line', { x1: svg.stepX(t.onset_step), x2: svg.stepX(t.onset_step), y1: T, y2: H - B, stroke: '#d62728', 'stroke-width': 2 }));
    g.append(el('svg:text', { x: svg.stepX(t.onset_step) + 3, y: T + 10, fill: '#d62728' }, `transition @ ${t.onset_step}`));
    svg.append(g);
  }
  $('timeline').replaceChildren(svg, legend(series));
  $('transitions').replaceChildren(...transitions.map((t) => el('li', { class: 'transition' },
    `phase transition at step ${t.onset_step} (alarm at ${t.alarm_step}, raised at step ${fmt(t.raised_at_step)}; ` +
    `feature signals: ${(t.feature_signals || []).join(', ') || 'none'}; scalars: ${(t.scalar_signals || []).join(', ') || 'none'})`)));
  if (phases && phases.phase) $('transitions').prepend(el('li', { class: 'muted' }, `current phase: ${phases.phase}`));
}

// ---- the events feed ----

function describe(e) {
  switch (e.type) {
    case 'phase_transition': return `phase transition in ${e.run}/${e.tap}: onset step ${e.onset_step}, alarm at step ${e.alarm_step}`;
    case 'phase_transition_features': return `phase transition in ${e.run}/${e.tap} (began step ${e.began_step}) now seen in the features: ${(e.feature_signals || []).join(', ')}`;
    case 'phase': return `phase ${e.previous_phase || '?'} → ${e.phase} in ${e.run}/${e.tap} at step ${e.step}`;
    default:
      if ('feature' in e) return `feature ${e.feature} ${e.kind || e.type} in ${e.run}/${e.tap} at step ${e.step}`;
      return `${e.type} in ${e.run}${e.tap ? '/' + e.tap : ''}`;
  }
}

function addEvents(list, live) {
  let fresh = false;
  for (const e of list) {
    const key = `${e.run}/${e.seq}`;
    if (state.events.has(key)) continue;
    state.events.set(key, e);
    if (live) state.received.set(key, Date.now());
    fresh = true;
  }
  if (!fresh) return;
  const newest = [...state.events.values()].sort((a, b) => (b.raised_unix_ms || 0) - (a.raised_unix_ms || 0) || b.seq - a.seq).slice(0, 300);
  $('events').replaceChildren(...newest.map((e) => {
    const li = el('li', { class: `event-${e.type}` });
    const received = state.received.get(`${e.run}/${e.seq}`);
    if (received) li.dataset.received = received;
    if (live && list.includes(e)) li.classList.add('new');
    li.append(el('div', { class: 'meta' }, `${e.raised_unix_ms ? new Date(e.raised_unix_ms).toLocaleTimeString() : ''} #${e.seq}`));
    if ('feature' in e && e.run === state.run && e.tap === state.tap) {
      const a = el('a', { class: 'feature' }, describe(e));
      a.onclick = () => showFeature(e.feature).catch(showError);
      li.append(a);
    } else {
      li.append(document.createTextNode(describe(e)));
    }
    return li;
  }));
  if (live && list.some((e) => e.run === state.run)) scheduleRefresh();
}

const loadHistory = () => api('events').then((list) => addEvents(list, false)).catch(showError);

function connectEvents() {
  const source = new EventSource('events');
  const live = $('live');
  source.addEventListener('ready', () => {  // subscribed: now the history, so that nothing falls in between
    live.textContent = 'events: live';
    live.className = 'on';
    document.body.dataset.events = 'live';
    loadHistory();
  });
  source.addEventListener('lost', loadHistory);
  source.onmessage = (message) => addEvents([JSON.parse(message.data)], true);
  source.onerror = () => {
    document.body.dataset.events = 'off';
    if (source.readyState === EventSource.CLOSED) {  // refused (too many streams): poll instead
      live.textContent = 'events: polling';
      setInterval(loadHistory, 3000);
    } else {
      live.textContent = 'events: reconnecting';
      live.className = 'off';
    }
  };
}

let refreshTimer = null;
function scheduleRefresh() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => refreshRuns().then(refreshTap).catch(showError), 300);
}

function showError(error) { console.error(error); $('daemon').textContent = `error: ${error.message}`; }

connectEvents();
refreshRuns().then(refreshTap).catch(showError);
setInterval(() => refreshRuns().then(refreshTap).catch(showError), 5000);
