// Opens page.html in Debian's Chromium through playwright-core and reports on stdout, one JSON
// object a line: {"event":"subscribed"} once the page's client subscribed, then
// {"event":"done",...} when it has received --expect messages, or {"event":"timeout",...}.
// Usage: node run_page.js PAGE_URL EXPECTED_MESSAGES [TIMEOUT_MS]
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

async function main() {
  const [url, expected, timeoutArg] = process.argv.slice(2);
  const want = Number(expected);
  const timeout = Number(timeoutArg || 30000);
  const deadline = Date.now() + timeout;
  const left = () => Math.max(1, deadline - Date.now());
  // A fresh profile each run: nothing cached, no state between tests.
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'shardmq-chromium-'));
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM, headless: true, args: ARGS, timeout: left(),
    });
    const page = context.pages()[0] || (await context.newPage());
    const consoleLines = [];
    page.on('console', (m) => consoleLines.push(m.type() + ': ' + m.text()));
    page.on('pageerror', (e) => consoleLines.push('pageerror: ' + e.message));
    const snapshot = () => page.evaluate(() => window.mqttTest || null);
    await page.goto(url, { timeout: left() });
    try {
      await page.waitForFunction(() => window.mqttTest && window.mqttTest.subscribed,
        null, { timeout: left() });
      emit({ event: 'subscribed' });
      await page.waitForFunction((n) => window.mqttTest.messages.length >= n, want,
        { timeout: left() });
      emit({ event: 'done', report: await snapshot(), console: consoleLines });
    } catch (e) {
      emit({ event: 'timeout', error: String(e.message || e).split('\n')[0],
        report: await snapshot().catch(() => null), console: consoleLines });
      process.exitCode = 1;
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
