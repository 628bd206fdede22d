import { mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect } from 'vitest';
import { ensureConsoleBuilt } from '../../shared/runtime/console.js';
import { startTestApp, type TestApp } from '../helpers/app.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const screenshots = fileURLToPath(new URL('./screenshots/', import.meta.url));
const axeSource = readFileSync(fileURLToPath(import.meta.resolve('axe-core/axe.min.js')), 'utf8');

export const PASSWORD = 'a long enough passphrase 42';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface RigOptions {
  host?: string;
  /** Further settings for the local runtime (PORT and APP_URL are the rig's). */
  env?: Record<string, string>;
}

export interface BrowserRig {
  app: TestApp;
  browser: Browser;
  /** A fresh browser profile (cookies, storage) whose pages fail the test on any CSP violation. */
  context(): Promise<BrowserContext>;
  stop(): Promise<void>;
}

/**
 * The local runtime on a known port (APP_URL must be the page's origin: mail links point there
 * and cookie-borne writes are checked against it) and a headless Debian chromium.
 */
export async function startRig(options: RigOptions = {}): Promise<BrowserRig> {
  await ensureConsoleBuilt();
  const port = await freePort();
  // WebAuthn takes the RP ID from APP_URL's host, and refuses IP addresses: passkey tests use localhost.
  const appUrl = `http://${options.host ?? '127.0.0.1'}:${port}`;
  const app = await startTestApp({ env: { ...options.env, PORT: String(port), APP_URL: appUrl } });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  const contexts: BrowserContext[] = [];
  return {
    app,
    browser,
    async context() {
      const context = await browser.newContext({ baseURL: appUrl, viewport: { width: 1100, height: 800 } });
      context.setDefaultTimeout(15_000);
      // Some refusals (WebAssembly, eval) throw instead of logging: report every violation event.
      await context.addInitScript(() =>
        document.addEventListener('securitypolicyviolation', (e) =>
          console.error(`Content Security Policy violation: ${e.violatedDirective} ${e.blockedURI}`),
        ),
      );
      context.on('page', watchCsp);
      contexts.push(context);
      return context;
    },
    async stop() {
      await Promise.all(contexts.map((c) => c.close().catch(() => undefined)));
      await browser.close();
      await app.stop();
    },
  };
}

const violations = new WeakMap<Page, string[]>();
function watchCsp(page: Page): void {
  const seen: string[] = [];
  violations.set(page, seen);
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) seen.push(message.text());
  });
}

/** Opens a page in the context, watched for CSP violations. */
export async function openPage(context: BrowserContext, path: string): Promise<Page> {
  const page = await context.newPage();
  if (!violations.has(page)) watchCsp(page);
  await page.goto(path);
  return page;
}

/** No serious or critical axe-core violation, no CSP violation; and a screenshot for the docs. */
export async function checkPage(page: Page, name: string): Promise<void> {
  await page.waitForLoadState('networkidle');
  const results = (await page.evaluate(
    `(async () => { ${axeSource}; const r = await axe.run(document, { resultTypes: ['violations'] });
      return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')) })); })()`,
  )) as Array<{ id: string; impact: string; nodes: string[] }>;
  const bad = results.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(bad, `axe on ${name}`).toEqual([]);
  expect(violations.get(page) ?? [], `CSP on ${name}`).toEqual([]);
  mkdirSync(screenshots, { recursive: true });
  await page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true });
}

/** Signs up, verifies and signs in through the API; the browser context then signs in by form. */
export async function signInByForm(page: Page, email: string, password = PASSWORD): Promise<void> {
  await page.goto('/login');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForURL('**/settings/security');
}

let counter = 0;
export function uniqueEmail(label: string): string {
  return `${label}-${++counter}-${Date.now()}@example.com`;
}

/** The rig for one test file: started before its tests, stopped after them. */
export function useRig(options: RigOptions = {}): BrowserRig {
  let rig: BrowserRig | undefined;
  beforeAll(async () => {
    rig = await startRig(options);
  });
  afterAll(() => rig?.stop());
  return {
    get app() {
      return rig!.app;
    },
    get browser() {
      return rig!.browser;
    },
    context: () => rig!.context(),
    stop: () => rig!.stop(),
  };
}

/** A verified user (made through the API) signed in by the form in a fresh browser profile. */
export async function signedInPage(rig: BrowserRig, label: string) {
  const user = await rig.app.signupVerifiedAndLogin(uniqueEmail(label), PASSWORD);
  const page = await openPage(await rig.context(), '/login');
  await signInByForm(page, user.email);
  return { user, page };
}

/** Chromium's virtual authenticator: a platform authenticator with resident keys and user verification. */
export async function virtualAuthenticator(page: Page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return { cdp, authenticatorId };
}
