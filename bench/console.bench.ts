import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium, type Page } from 'playwright-core';
import { consoleDistDir, ensureConsoleBuilt } from '../shared/runtime/console.js';
import { startTestApp } from '../tests/helpers/app.js';
import { machineLine, percentile, type Row, report } from './lib/report.js';

/**
 * The console's weight and speed on the local runtime: the JavaScript a first visit to a page
 * downloads (gzip, as served compressed by Hosting), and the time until the page's heading is in
 * the DOM (from navigation start, median of 5 fresh navigations). Targets: /login ≤ 60 KB,
 * /settings/security ≤ 100 KB, first render ≤ 500 ms.
 */
const NAVIGATIONS = 5;
const PASSWORD = 'a long enough passphrase 42';
const loadAtStart = loadavg()[0] ?? 0;

await ensureConsoleBuilt();
const app = await startTestApp({ env: { PORT: '0' } });
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
});

const gzipKb = (urls: string[]) =>
  urls.reduce((sum, url) => {
    const file = join(consoleDistDir, new URL(url).pathname);
    return sum + gzipSync(readFileSync(file), { level: 9 }).length;
  }, 0) / 1024;

async function visit(
  page: Page,
  path: string,
  heading: string,
): Promise<{ scripts: string[]; renderMs: number; checkMs: number }> {
  const scripts: string[] = [];
  const listener = (response: { url(): string; request(): { resourceType(): string } }) => {
    if (response.request().resourceType() === 'script') scripts.push(response.url());
  };
  page.on('response', listener);
  await page.goto(path);
  await page.getByRole('heading', { level: 1, name: heading, exact: true }).waitFor();
  await page.waitForLoadState('networkidle');
  page.off('response', listener);
  const [renderMs, checkMs] = await page.evaluate(() => [
    performance.getEntriesByName('sf:first-page')[0]?.startTime ?? Number.NaN,
    (performance.getEntriesByType('resource') as PerformanceResourceTiming[]).find((e) =>
      e.name.endsWith('/api/sessions/current'),
    )?.duration ?? Number.NaN,
  ]);
  return { scripts: [...new Set(scripts)], renderMs: renderMs!, checkMs: checkMs! };
}

const rows: Row[] = [];
try {
  const user = await app.signupVerifiedAndLogin(`bench-${Date.now()}@example.com`, PASSWORD);
  const targets = [
    { path: '/login', signedIn: false, kbTarget: 60, heading: 'Sign in' },
    { path: '/settings/security', signedIn: true, kbTarget: 100, heading: 'Security' },
  ];
  for (const target of targets) {
    const renders: number[] = [];
    const checks: number[] = [];
    let scripts: string[] = [];
    for (let i = 0; i < NAVIGATIONS; i++) {
      // A fresh profile each time: an empty cache, as a first visit.
      const context = await browser.newContext({ baseURL: app.url });
      if (target.signedIn) {
        const login = await context.request.post(`${app.url}/api/login`, {
          data: { email: user.email, password: PASSWORD },
        });
        if (!login.ok()) throw new Error(`login failed: ${await login.text()}`);
      }
      const page = await context.newPage();
      const result = await visit(page, target.path, target.heading);
      renders.push(result.renderMs);
      checks.push(result.checkMs);
      scripts = result.scripts;
      await context.close();
    }
    renders.sort((a, b) => a - b);
    checks.sort((a, b) => a - b);
    const kb = gzipKb(scripts);
    const median = percentile(renders, 50);
    rows.push({
      page: target.path,
      'JS files': scripts.length,
      'initial JS KB gzip': kb,
      'KB target': `≤ ${target.kbTarget}`,
      'first render ms (median of 5)': median,
      'fastest / slowest ms': `${renders[0]!.toFixed(0)} / ${renders.at(-1)!.toFixed(0)}`,
      'render target': '≤ 500',
      'of which session check ms (median)': percentile(checks, 50),
      'within targets': kb <= target.kbTarget && median <= 500 ? 'yes' : 'NO',
    });
  }
} finally {
  await browser.close();
  await app.stop();
}

report(
  'console',
  'Web console: initial JavaScript and first render (issue 20)',
  [
    `${machineLine()}; Debian chromium headless; machine load (1-minute average) ${loadAtStart.toFixed(1)} at start, ${(loadavg()[0] ?? 0).toFixed(1)} at end.`,
    'Initial JS: every script a first visit (empty cache) loads until the network is idle, gzip -9 of the built file',
    '(Hosting serves compressed; the local gateway serves plain files). The recording player is a separate chunk loaded',
    'only on its page, so neither figure includes it. First render: navigation start to the first page component in the DOM with its heading',
    '(the console marks `sf:first-page` in the Performance timeline when it commits, before the paint), on the local runtime; /settings/security',
    'includes the session check (GET /api/sessions/current) that precedes it.',
  ],
  rows,
);
