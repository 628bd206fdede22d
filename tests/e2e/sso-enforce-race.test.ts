import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { holdOrgLock } from '../helpers/db.js';
import { freePort, type InProcessProvider, startOidcProvider } from '../helpers/oidc.js';
import { createOrg, expectError, newUser, orgTestEnv, type TestUser } from '../helpers/orgs.js';
import { configureSso, providerSettings, stepUp } from '../helpers/sso.js';
import '../../shared/orgs/tables.js';
import '../../shared/sso/tables.js';

/**
 * Two owners at once: one requires SSO while the other turns it off. Each order checks the other's
 * half under the org's row lock, so the org never ends up requiring an SSO it no longer has (which
 * would keep every account at its verified domains from signing in). The other owner's change is
 * held open in a transaction here, so the order under test lands exactly in between.
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

async function ssoOrg(label: string): Promise<{ owner: TestUser; orgId: string }> {
  const owner = await newUser(app, label);
  const org = await createOrg(app, owner);
  await stepUp(app, owner);
  const configured = await configureSso(app, owner.token, org.id, providerSettings(idp));
  expect(configured.status, configured.text).toBe(200);
  return { owner, orgId: org.id };
}

describe('enforceSso and turning SSO off, by two owners at once', () => {
  it('DELETE /sso that lands while SSO is being required is refused (409) and SSO stays', async () => {
    const { owner, orgId } = await ssoOrg('race-delete');
    const db = app.runtime.platform.db;
    const held = await holdOrgLock(db, orgId, (tx) =>
      tx.updateTable('orgs').set({ enforce_sso: true }).where('id', '=', orgId).execute(),
    );
    const removing = app.request('DELETE', `/api/orgs/${orgId}/sso`, { token: owner.token });
    await held.release();
    expectError(await removing, 409, 'CONFLICT');
    const config = await db
      .selectFrom('org_sso_configs')
      .select('org_id')
      .where('org_id', '=', orgId)
      .execute();
    expect(config).toHaveLength(1);
  });

  it('enforceSso that lands while SSO is being turned off is refused (409) and stays off', async () => {
    const { owner, orgId } = await ssoOrg('race-enforce');
    const db = app.runtime.platform.db;
    const held = await holdOrgLock(db, orgId, (tx) =>
      tx.deleteFrom('org_sso_configs').where('org_id', '=', orgId).execute(),
    );
    const enforcing = app.request('PATCH', `/api/orgs/${orgId}/policy`, {
      token: owner.token,
      body: { enforceSso: true },
    });
    await held.release();
    expectError(await enforcing, 409, 'CONFLICT');
    const org = await db
      .selectFrom('orgs')
      .select('enforce_sso')
      .where('id', '=', orgId)
      .executeTakeFirstOrThrow();
    expect(org.enforce_sso).toBe(false);
  });
});
