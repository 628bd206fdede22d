import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { freePort, type InProcessProvider, startOidcProvider } from '../helpers/oidc.js';
import { createOrg, expectError, newUser, orgTestEnv } from '../helpers/orgs.js';
import { configureSso, providerSettings, stepUp } from '../helpers/sso.js';

/**
 * Turning single sign-on off while the policy still requires it would send every account at the
 * org's verified domains to an SSO that no longer exists (only owners with break-glass could sign
 * in). The API refuses that order; the console shows the refusal in words.
 */
let app: TestApp;
let idp: InProcessProvider;

beforeAll(async () => {
  const port = await freePort();
  const appUrl = `http://127.0.0.1:${port}`;
  idp = await startOidcProvider(`${appUrl}/api/login/sso/callback`);
  app = await startTestApp({ env: { ...orgTestEnv, PORT: String(port), APP_URL: appUrl } });
}, 240_000);

afterAll(async () => {
  await app?.stop();
  await idp?.stop();
});

describe('turning single sign-on off', () => {
  it('is refused while SSO is required, and works once it no longer is', async () => {
    const owner = await newUser(app, 'sso-off');
    const org = await createOrg(app, owner);
    await stepUp(app, owner);
    const configured = await configureSso(app, owner.token, org.id, providerSettings(idp));
    expect(configured.status, configured.text).toBe(200);
    const enforced = await app.request('PATCH', `/api/orgs/${org.id}/policy`, {
      token: owner.token,
      body: { enforceSso: true },
    });
    expect(enforced.status, enforced.text).toBe(200);

    const refused = await app.request('DELETE', `/api/orgs/${org.id}/sso`, { token: owner.token });
    expectError(refused, 409, 'CONFLICT');
    expect(refused.body.error.message).toContain('stop requiring it');
    expect((await app.request('GET', `/api/orgs/${org.id}/sso`, { token: owner.token })).status).toBe(200);

    const relaxed = await app.request('PATCH', `/api/orgs/${org.id}/policy`, {
      token: owner.token,
      body: { enforceSso: false },
    });
    expect(relaxed.status, relaxed.text).toBe(200);
    const removed = await app.request('DELETE', `/api/orgs/${org.id}/sso`, { token: owner.token });
    expect(removed.status, removed.text).toBe(204);
    expect((await app.request('GET', `/api/orgs/${org.id}/sso`, { token: owner.token })).status).toBe(404);
  });

  it('an org that never required SSO turns it off at once; a second order finds nothing to turn off', async () => {
    const owner = await newUser(app, 'sso-off-plain');
    const org = await createOrg(app, owner);
    await stepUp(app, owner);
    expect((await configureSso(app, owner.token, org.id, providerSettings(idp))).status).toBe(200);
    const removed = await app.request('DELETE', `/api/orgs/${org.id}/sso`, { token: owner.token });
    expect(removed.status, removed.text).toBe(204);
    const again = await app.request('DELETE', `/api/orgs/${org.id}/sso`, { token: owner.token });
    expectError(again, 404, 'NOT_FOUND');
  });
});
