// shardmq's live dashboard: reads /metrics (Prometheus text) and /status.json once a second
// and draws what they say. Rates and latency quantiles are worked out here from the
// differences between two readings, as Prometheus's rate() and histogram_quantile() would.
// No library and nothing fetched from elsewhere: the broker serves this file from its binary.
// window.dashboardState holds the figures shown, for tests and for the curious.
'use strict';

const PERIOD_MS = 1000;
const HISTORY = 300;  // points kept per series: five minutes at one a second
const COLOURS = ['#4fb3ff', '#ffb454', '#7ee787', '#ff7b72', '#d2a8ff', '#79c0ff', '#f2cc60',
  '#56d4dd', '#ffa198', '#a5d6ff', '#e3b341', '#bc8cff'];

// ---- reading the Prometheus text format -------------------------------------------------

// Parses one exposition into [{name, labels, value}]: comments skipped, label values
// unescaped.
function parseMetrics(text) {
  const samples = [];
  const labelRe = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
  for (const line of text.split('\n')) {
    if (line === '' || line[0] === '#') continue;
    const brace = line.indexOf('{');
    const space = line.lastIndexOf(' ');
    if (space < 0) continue;
    let name, labels = {};
    if (brace >= 0 && brace < space) {
      name = line.slice(0, brace);
      const close = line.lastIndexOf('}');
      const body = line.slice(brace + 1, close);
      let m;
      labelRe.lastIndex = 0;
      while ((m = labelRe.exec(body)) !== null)
        labels[m[1]] = m[2].replace(/\\n/g, '\n').replace(/\\(.)/g, '$1');
    } else {
      name = line.slice(0, space);
    }
    const value = Number(line.slice(space + 1));
    samples.push({ name, labels, value });
  }
  return samples;
}

function matches(sample, filter) {
  return !filter || Object.entries(filter).every(([k, v]) => sample.labels[k] === v);
}

// One reading, indexed: sum(name, filter) adds every sample of a family whose labels match
// filter; byLabel(name, label) adds them up per value of one label.
class Reading {
  constructor(samples, at) {
    this.at = at;
    this.byName = new Map();
    for (const s of samples) {
      if (!this.byName.has(s.name)) this.byName.set(s.name, []);
      this.byName.get(s.name).push(s);
    }
  }
  has(name) { return this.byName.has(name); }
  sum(name, filter) {
    let total = 0;
    for (const s of this.byName.get(name) || []) {
      if (matches(s, filter)) total += s.value;
    }
    return total;
  }
  byLabel(name, label) {
    const out = new Map();
    for (const s of this.byName.get(name) || []) {
      const key = s.labels[label];
      if (key === undefined) continue;
      out.set(key, (out.get(key) || 0) + s.value);
    }
    return out;
  }
  // A histogram's cumulative buckets as [[le, count]], le ascending, summed over the label
  // sets that match filter.
  buckets(name, filter) {
    const byLe = new Map();
    for (const s of this.byName.get(name + '_bucket') || []) {
      if (!matches(s, filter)) continue;
      byLe.set(s.labels.le, (byLe.get(s.labels.le) || 0) + s.value);
    }
    return [...byLe.entries()]
      .map(([le, n]) => [le === '+Inf' ? Infinity : Number(le), n])
      .sort((a, b) => a[0] - b[0]);
  }
}

// Per second, between two readings; a counter that went down (a restart) counts from zero.
function rate(now, before, value) {
  if (!before) return null;
  const dt = (now.at - before.at) / 1000;
  if (dt <= 0) return null;
  const d = value(now) - value(before);
  return (d >= 0 ? d : value(now)) / dt;
}

// The q-quantile of the observations made between two readings of a histogram, interpolated
// within its bucket; null when nothing was observed.
function quantile(q, nowBuckets, beforeBuckets) {
  const before = new Map(beforeBuckets);
  const delta = nowBuckets.map(([le, n]) => [le, Math.max(0, n - (before.get(le) || 0))]);
  if (delta.length === 0) return null;
  const total = delta[delta.length - 1][1];
  if (total <= 0) return null;
  const rank = q * total;
  let lowerLe = 0, lowerCount = 0;
  for (const [le, n] of delta) {
    if (n >= rank) {
      if (le === Infinity) return lowerLe;  // above the last bound: say the last bound
      if (n === lowerCount) return le;
      return lowerLe + (le - lowerLe) * (rank - lowerCount) / (n - lowerCount);
    }
    lowerLe = le;
    lowerCount = n;
  }
  return lowerLe;
}

// ---- formatting ---------------------------------------------------------------------------

function formatCount(v) {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  const a = Math.abs(v);
  if (a >= 1e9) return (v / 1e9).toFixed(2) + ' G';
  if (a >= 1e6) return (v / 1e6).toFixed(2) + ' M';
  if (a >= 1e4) return (v / 1e3).toFixed(1) + ' k';
  if (Number.isInteger(v)) return String(v);
  return a < 10 ? String(Number(v.toFixed(2))) : v.toFixed(1);
}
function formatExact(v) {
  return v === null || v === undefined ? '–' : Math.round(v).toLocaleString('en-US');
}
function formatSeconds(s) {
  if (s === null || s === undefined) return '–';
  if (s < 1e-3) return (s * 1e6).toFixed(0) + ' µs';
  if (s < 1) return (s * 1e3).toFixed(s < 0.01 ? 2 : 1) + ' ms';
  return s.toFixed(2) + ' s';
}
function formatBytes(b) {
  if (b === null || b === undefined) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (b >= 1024 && i < units.length - 1) { b /= 1024; ++i; }
  return (i === 0 ? b.toFixed(0) : b.toFixed(1)) + ' ' + units[i];
}
function formatUptime(s) {
  s = Math.floor(s);
  const d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600);
  const m = Math.floor(s % 3600 / 60), sec = s % 60;
  if (d) return `${d}d ${h}h ${m}m`;
  if (h) return `${h}h ${m}m ${sec}s`;
  if (m) return `${m}m ${sec}s`;
  return `${sec}s`;
}

// ---- charts -------------------------------------------------------------------------------

// A line chart over the last HISTORY readings: series appear as they are first seen.
class Chart {
  constructor(canvas, unit) {
    this.canvas = canvas;
    this.unit = unit || ((v) => formatCount(v));
    this.series = new Map();  // name -> array of (number|null), oldest first
  }
  push(values) {  // values: Map or object name -> number|null
    const entries = values instanceof Map ? [...values.entries()] : Object.entries(values);
    const length = this.series.size ? this.series.values().next().value.length : 0;
    for (const [name] of entries)
      if (!this.series.has(name)) this.series.set(name, new Array(length).fill(null));
    const given = new Map(entries);
    for (const [name, points] of this.series) {
      points.push(given.has(name) ? given.get(name) : null);
      if (points.length > HISTORY) points.shift();
    }
  }
  draw() {
    const c = this.canvas;
    const ratio = window.devicePixelRatio || 1;
    const w = c.clientWidth, h = c.clientHeight;
    if (c.width !== Math.round(w * ratio) || c.height !== Math.round(h * ratio)) {
      c.width = Math.round(w * ratio);
      c.height = Math.round(h * ratio);
    }
    const g = c.getContext('2d');
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.clearRect(0, 0, w, h);
    const left = 58, right = 8, top = 8, bottom = 34;
    const plotW = w - left - right, plotH = h - top - bottom;
    let max = 0;
    for (const points of this.series.values())
      for (const v of points) if (v !== null && v > max) max = v;
    max = niceCeiling(max);
    g.font = '11px system-ui, sans-serif';
    g.strokeStyle = '#2a3542';
    g.fillStyle = '#8a96a3';
    g.lineWidth = 1;
    g.textAlign = 'right';
    g.textBaseline = 'middle';
    for (let i = 0; i <= 4; ++i) {
      const y = top + plotH - plotH * i / 4;
      g.beginPath();
      g.moveTo(left, Math.round(y) + 0.5);
      g.lineTo(left + plotW, Math.round(y) + 0.5);
      g.stroke();
      g.fillText(this.unit(max * i / 4), left - 6, y);
    }
    g.textAlign = 'center';
    g.textBaseline = 'top';
    for (const [label, at, align] of [['-5 min', 0, 'left'], ['-2.5 min', 0.5, 'center'],
      ['now', 1, 'right']]) {
      g.textAlign = align;
      g.fillText(label, left + plotW * at, top + plotH + 4);
    }
    let i = 0;
    const legend = [];
    for (const [name, points] of this.series) {
      const colour = COLOURS[i++ % COLOURS.length];
      legend.push([name, colour]);
      g.strokeStyle = colour;
      g.lineWidth = 1.5;
      g.beginPath();
      let drawing = false;
      const offset = HISTORY - points.length;
      points.forEach((v, k) => {
        if (v === null) { drawing = false; return; }
        const x = left + plotW * (offset + k) / (HISTORY - 1);
        const y = top + plotH - (max > 0 ? plotH * v / max : 0);
        if (drawing) g.lineTo(x, y); else g.moveTo(x, y);
        drawing = true;
      });
      g.stroke();
    }
    g.textAlign = 'left';
    g.textBaseline = 'top';
    let x = left;
    for (const [name, colour] of legend) {
      g.fillStyle = colour;
      g.fillRect(x, top + plotH + 20, 10, 3);
      g.fillStyle = '#8a96a3';
      g.fillText(name, x + 14, top + plotH + 16);
      x += 22 + g.measureText(name).width;
    }
  }
}

function niceCeiling(v) {
  if (v <= 0) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

// ---- the page -----------------------------------------------------------------------------

const state = {
  updates: 0,        // readings shown so far
  errors: 0,         // readings that failed
  lastError: null,
  figures: {},       // what the tiles show, as numbers (null: not known yet)
  status: null,      // the last /status.json
};
window.dashboardState = state;

const charts = {
  connections: new Chart(document.getElementById('chart-connections')),
  messages: new Chart(document.getElementById('chart-messages')),
  drops: new Chart(document.getElementById('chart-drops')),
  latency: new Chart(document.getElementById('chart-latency'), (v) => v.toFixed(v < 1 ? 2 : 1)),
  shardLoad: new Chart(document.getElementById('chart-shard-load')),
  shardQueues: new Chart(document.getElementById('chart-shard-queues')),
};

let previous = null;

function show(key, text) {
  for (const el of document.querySelectorAll(`[data-metric="${key}"]`)) el.textContent = text;
}

function showStatus(s) {
  state.status = s;
  show('version', s.version);
  show('uptime', formatUptime(s.uptime_seconds));
  show('shards', String(s.shards));
  show('io', s.io);
  show('listeners', s.listeners.join(', '));
  const dl = document.getElementById('config');
  dl.replaceChildren();
  for (const [k, v] of Object.entries(s.config)) {
    const dt = document.createElement('dt');
    dt.textContent = k;
    const dd = document.createElement('dd');
    dd.textContent = v === '' ? '—' : String(v);
    dl.append(dt, dd);
  }
}

function showMetrics(now, before) {
  const f = state.figures;
  const sent = (r) => r.sum('shardmq_messages_sent_total');
  const received = (r) => r.sum('shardmq_messages_received_total');
  const dropped = (r) => r.sum('shardmq_messages_dropped_total');
  f.connections = now.sum('shardmq_connections');
  f.sessions_offline = now.sum('shardmq_sessions', { state: 'offline' });
  f.messages_received_total = received(now);
  f.messages_sent_total = sent(now);
  f.messages_dropped_total = dropped(now);
  f.messages_in_rate = rate(now, before, received);
  f.messages_out_rate = rate(now, before, sent);
  f.dropped_rate = rate(now, before, dropped);
  f.subscriptions = now.sum('shardmq_subscriptions');
  f.retained_messages = now.sum('shardmq_retained_messages');
  f.messages_queued = now.sum('shardmq_messages_queued');
  f.messages_inflight = now.sum('shardmq_messages_inflight');
  f.heap = now.has('shardmq_heap_bytes') ? now.sum('shardmq_heap_bytes') : null;
  const histogram = 'shardmq_publish_delivery_seconds';
  const latency = {};
  for (const [q, key] of [[0.5, 'p50'], [0.9, 'p90'], [0.99, 'p99']]) {
    latency[key] = before ? quantile(q, now.buckets(histogram), before.buckets(histogram)) : null;
    f['latency_' + key] = latency[key];
  }

  for (const key of ['connections', 'sessions_offline', 'messages_received_total',
    'messages_sent_total', 'messages_dropped_total', 'subscriptions', 'retained_messages',
    'messages_queued', 'messages_inflight'])
    show(key, formatExact(f[key]));
  for (const key of ['messages_in_rate', 'messages_out_rate', 'dropped_rate'])
    show(key, f[key] === null ? '–' : formatCount(Math.round(f[key])));
  show('latency_p50', formatSeconds(f.latency_p50));
  show('latency_p99', formatSeconds(f.latency_p99));
  show('heap', formatBytes(f.heap));

  charts.connections.push({ connections: f.connections, 'offline sessions': f.sessions_offline });
  charts.messages.push({ in: f.messages_in_rate, out: f.messages_out_rate });
  const drops = new Map();
  for (const reason of now.byLabel('shardmq_messages_dropped_total', 'reason').keys())
    drops.set(reason, rate(now, before,
      (r) => r.sum('shardmq_messages_dropped_total', { reason })));
  charts.drops.push(drops);
  const ms = (s) => (s === null ? null : s * 1e3);
  charts.latency.push({ p50: ms(latency.p50), p90: ms(latency.p90), p99: ms(latency.p99) });

  const shards = [...now.byLabel('shardmq_connections', 'shard').keys()]
    .sort((a, b) => Number(a) - Number(b));
  const load = new Map(), queues = new Map();
  const rows = [];
  for (const shard of shards) {
    const of = { shard };
    const inRate = rate(now, before, (r) => r.sum('shardmq_messages_received_total', of));
    const outRate = rate(now, before, (r) => r.sum('shardmq_messages_sent_total', of));
    const backlog = now.sum('shardmq_ring_backlog', of);
    const queued = now.sum('shardmq_messages_queued', of);
    load.set('shard ' + shard, inRate);
    queues.set('shard ' + shard, backlog + queued);
    const p99 = before ? quantile(0.99, now.buckets(histogram, of), before.buckets(histogram, of))
      : null;
    rows.push([shard, formatExact(now.sum('shardmq_connections', of)),
      inRate === null ? '–' : formatCount(Math.round(inRate)),
      outRate === null ? '–' : formatCount(Math.round(outRate)), formatExact(backlog),
      formatExact(queued), formatExact(now.sum('shardmq_messages_inflight', of)),
      formatSeconds(p99)]);
  }
  charts.shardLoad.push(load);
  charts.shardQueues.push(queues);
  const body = document.getElementById('shard-rows');
  body.replaceChildren(...rows.map((cells) => {
    const tr = document.createElement('tr');
    tr.dataset.shard = cells[0];
    for (const c of cells) {
      const td = document.createElement('td');
      td.textContent = c;
      tr.append(td);
    }
    return tr;
  }));
  for (const chart of Object.values(charts)) chart.draw();
}

async function fetchText(path) {
  const response = await fetch(path, { cache: 'no-store', credentials: 'same-origin' });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.text();
}

async function refresh() {
  const statusLine = document.getElementById('status');
  try {
    const [metricsText, statusText] = await Promise.all([fetchText('/metrics'),
      fetchText('/status.json')]);
    const now = new Reading(parseMetrics(metricsText), performance.now());
    showStatus(JSON.parse(statusText));
    showMetrics(now, previous);
    previous = now;
    state.updates += 1;
    statusLine.textContent = 'updated ' + new Date().toLocaleTimeString();
    statusLine.classList.remove('bad');
  } catch (e) {
    state.errors += 1;
    state.lastError = String(e.message || e);
    statusLine.textContent = 'cannot read the broker: ' + state.lastError;
    statusLine.classList.add('bad');
  } finally {
    setTimeout(refresh, PERIOD_MS);
  }
}

window.addEventListener('resize', () => { for (const c of Object.values(charts)) c.draw(); });
refresh();
