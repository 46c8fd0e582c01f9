// Opens shardmq's dashboard (GET / on an http:// listener) in Debian's Chromium through
// playwright-core and answers commands read from stdin, one a line, with one JSON object a
// line on stdout:
//   sample             -> {"event":"sample", ...what the page shows now (see snapshot())}
//   screenshot PATH    -> {"event":"screenshot","path":PATH}  (the whole page, PNG)
//   quit               -> closes the browser and exits
// It first prints {"event":"loaded"} once the page has shown a first reading, or
// {"event":"error",...} (an HTTP error or a page that never updates).
// Usage: node run_dashboard.js URL [USER PASSWORD]
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const readline = require('readline');
const { chromium } = require('playwright-core');

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
const LOAD_TIMEOUT_MS = 30000;

function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

// What the page shows: the text of every [data-metric] element, the numbers behind them
// (window.dashboardState), the shard table, whether each chart has drawn any line, and every
// request the page made to another origin (there must be none).
function snapshot() {
  const text = {};
  for (const el of document.querySelectorAll('[data-metric]')) text[el.dataset.metric] = el.textContent;
  const charts = {};
  for (const canvas of document.querySelectorAll('canvas')) {
    const g = canvas.getContext('2d');
    const { data } = g.getImageData(0, 0, canvas.width, canvas.height);
    // Lines are drawn in colours; grid and labels are grey (r == g == b or near it).
    let coloured = 0;
    for (let i = 0; i < data.length; i += 4) {
      const [r, gr, b, a] = [data[i], data[i + 1], data[i + 2], data[i + 3]];
      if (a > 0 && Math.max(r, gr, b) - Math.min(r, gr, b) > 40) coloured++;
    }
    charts[canvas.id] = coloured;
  }
  const rows = [...document.querySelectorAll('#shard-rows tr')].map(
    (tr) => [...tr.children].map((td) => td.textContent));
  const s = window.dashboardState;
  return {
    updates: s.updates, errors: s.errors, lastError: s.lastError, figures: s.figures,
    status: s.status, text, charts, shardRows: rows,
    statusLine: document.getElementById('status').textContent,
  };
}

async function main() {
  const [url, user, password] = process.argv.slice(2);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'shardmq-chromium-'));
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM, headless: true, args: ARGS, timeout: LOAD_TIMEOUT_MS,
      viewport: { width: 1400, height: 1000 },
      httpCredentials: user !== undefined ? { username: user, password } : undefined,
    });
    const page = context.pages()[0] || (await context.newPage());
    const consoleLines = [];
    const foreign = [];
    const origin = new URL(url).origin;
    page.on('console', (m) => consoleLines.push(m.type() + ': ' + m.text()));
    page.on('pageerror', (e) => consoleLines.push('pageerror: ' + e.message));
    page.on('request', (r) => {
      if (!r.url().startsWith(origin + '/') && !r.url().startsWith('data:')) foreign.push(r.url());
    });
    const response = await page.goto(url, { timeout: LOAD_TIMEOUT_MS });
    if (!response || response.status() !== 200) {
      emit({ event: 'error', status: response ? response.status() : null, console: consoleLines });
      process.exitCode = 1;
      return;
    }
    try {
      await page.waitForFunction(() => window.dashboardState && window.dashboardState.updates >= 1,
        null, { timeout: LOAD_TIMEOUT_MS });
    } catch (e) {
      emit({ event: 'error', error: String(e.message || e).split('\n')[0],
        report: await page.evaluate(snapshot).catch(() => null), console: consoleLines });
      process.exitCode = 1;
      return;
    }
    emit({ event: 'loaded' });
    const lines = readline.createInterface({ input: process.stdin });
    for await (const line of lines) {
      const [command, ...rest] = line.trim().split(' ');
      if (command === 'sample') {
        emit({ event: 'sample', ...(await page.evaluate(snapshot)), foreign, console: consoleLines });
      } else if (command === 'screenshot') {
        const file = rest.join(' ');
        await page.screenshot({ path: file, fullPage: true });
        emit({ event: 'screenshot', path: file });
      } else if (command === 'quit') {
        break;
      } else {
        emit({ event: 'error', error: 'unknown command: ' + line });
      }
    }
  } finally {
    if (context) await context.close().catch(() => {});
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

main().catch((e) => {
  emit({ event: 'error', error: String(e.stack || e) });
  process.exitCode = 2;
});
