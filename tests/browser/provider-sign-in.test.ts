import type { BrowserContext, Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../shared/time/clock.js';
import { type FakeGoogleCerts, fakeGoogleCerts } from '../helpers/firebase.js';
import { enableMfa } from '../helpers/mfa.js';
import { checkPage, openPage, PASSWORD, uniqueEmail, useRig } from './harness.js';

const PROJECT = 'sf-console-project';
const WEB_API_KEY = 'test-web-api-key';

/**
 * Stands in for Firebase Auth's REST API and the provider's consent page (the browser talks to
 * them directly), checking what the console sends; the ID token it hands back is signed by the
 * fake Google certificates the API verifies against, so POST /api/login/oauth runs for real.
 */
async function fakeFirebase(
  context: BrowserContext,
  google: FakeGoogleCerts,
  options: { email: string; fail?: string },
) {
  const seen: Array<{ method: string; body: Record<string, unknown> }> = [];
  let provider = 'google.com';
  const cors = (route: Route) => ({
    'access-control-allow-origin': new URL(route.request().headers().origin ?? 'http://x').origin,
    'access-control-allow-headers': 'content-type',
    'access-control-allow-methods': 'POST',
  });
  await context.route('https://identitytoolkit.googleapis.com/**', async (route) => {
    const request = route.request();
    if (request.method() === 'OPTIONS') return route.fulfill({ status: 204, headers: cors(route) });
    const url = new URL(request.url());
    expect(url.searchParams.get('key')).toBe(WEB_API_KEY);
    const method = url.pathname.split(':').at(-1)!;
    const body = request.postDataJSON() as Record<string, unknown>;
    seen.push({ method, body });
    const json = (status: number, value: unknown) =>
      route.fulfill({
        status,
        headers: cors(route),
        contentType: 'application/json',
        body: JSON.stringify(value),
      });
    if (method === 'createAuthUri') {
      provider = body.providerId as string;
      const back = `${body.continueUri as string}?state=st-1&code=provider-code`;
      return json(200, {
        authUri: `https://accounts.example-idp.test/authorize?next=${encodeURIComponent(back)}`,
        sessionId: 'firebase-session-1',
        providerId: body.providerId,
      });
    }
    if (options.fail) return json(400, { error: { code: 400, message: options.fail } });
    expect(body.sessionId).toBe('firebase-session-1');
    expect(body.requestUri).toContain('code=provider-code');
    return json(200, {
      idToken: await google.idToken({ claims: { email: options.email, name: 'Ada Lovelace' }, provider }),
    });
  });
  // The provider's consent page: the person agrees and is sent back to the console.
  await context.route('https://accounts.example-idp.test/**', (route) =>
    route.fulfill({
      status: 302,
      headers: { location: new URL(route.request().url()).searchParams.get('next')! },
    }),
  );
  return seen;
}

describe('Google and GitHub sign-in when Firebase is configured', { timeout: 120_000 }, () => {
  let google: FakeGoogleCerts;
  beforeAll(async () => {
    google = await fakeGoogleCerts(PROJECT);
  });
  afterAll(() => google?.stop());
  const rig = useRig({ env: { FIREBASE_PROJECT_ID: PROJECT, FIREBASE_WEB_API_KEY: WEB_API_KEY } });

  it('offers both on /login and /signup, and signs in with Google through Firebase into a session of ours', async () => {
    const email = uniqueEmail('google');
    const context = await rig.context();
    const seen = await fakeFirebase(context, google, { email });
    const page = await openPage(context, '/signup');
    await page.getByRole('button', { name: 'Sign in with GitHub' }).waitFor();
    await page.goto('/login?next=%2Fsettings%2Fsecurity%3Ffrom%3Dgoogle');
    await page.getByRole('button', { name: 'Sign in with GitHub' }).waitFor();
    await checkPage(page, 'login-providers');
    await page.getByRole('button', { name: 'Sign in with Google' }).click();
    await page.waitForURL('**/settings/security?from=google');
    expect(seen.map((s) => s.method)).toEqual(['createAuthUri', 'signInWithIdp']);
    expect(seen[0]?.body).toMatchObject({ providerId: 'google.com' });
    expect(seen[0]?.body.continueUri).toMatch(/\/login\/provider$/);
    const current = await page.evaluate(async () => (await fetch('/api/sessions/current')).json());
    expect(current.user.email).toBe(email);
    // Nothing of the flow is left in web storage once the tab is back.
    expect(await page.evaluate(() => sessionStorage.length + localStorage.length)).toBe(0);
  });

  it('asks an account with two-factor for its code after GitHub, then signs in', async () => {
    const user = await rig.app.signupVerifiedAndLogin(uniqueEmail('github-mfa'), PASSWORD);
    const { backupCodes } = await enableMfa(rig.app, new FakeClock(new Date()), user);
    const context = await rig.context();
    const seen = await fakeFirebase(context, google, { email: user.email });
    const page = await openPage(context, '/login');
    await page.getByRole('button', { name: 'Sign in with GitHub' }).click();
    await page.getByRole('heading', { name: 'Two-factor authentication' }).waitFor();
    expect(seen[0]?.body).toMatchObject({ providerId: 'github.com' });
    await page.getByLabel('Code').fill(backupCodes[0]!);
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL('**/settings/security');
    const current = await page.evaluate(async () => (await fetch('/api/sessions/current')).json());
    expect(current.user.id).toBe(user.userId);
  });

  it('says in words when the provider’s answer is refused, and when the return page is opened on its own', async () => {
    const context = await rig.context();
    await fakeFirebase(context, google, { email: uniqueEmail('refused'), fail: 'INVALID_IDP_RESPONSE' });
    const page = await openPage(context, '/login');
    await page.getByRole('button', { name: 'Sign in with Google' }).click();
    await page.getByText('Google sign-in did not finish (INVALID_IDP_RESPONSE).').waitFor();
    await page.getByRole('link', { name: 'Back to sign in' }).waitFor();

    await page.goto('/login/provider?code=replayed');
    await page.getByText('This sign-in was not started in this tab').waitFor();
    const current = await page.evaluate(async () => (await fetch('/api/sessions/current')).status);
    expect(current).toBe(401);
  });
});

describe('without Firebase', { timeout: 120_000 }, () => {
  const rig = useRig();

  it('shows no Google or GitHub button, and the API says so', async () => {
    const page = await openPage(await rig.context(), '/login');
    await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
    await page.waitForLoadState('networkidle');
    expect(await page.getByRole('button', { name: /Google|GitHub/ }).count()).toBe(0);
    const answer = await rig.app.request('GET', '/api/login/providers');
    expect(answer.body).toEqual({ firebase: null });
  });
});
