import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../helpers/app.js';
import type { InProcessProvider } from '../helpers/oidc.js';
import { grantMembership, newUser, sudoToken, type TestUser } from '../helpers/orgs.js';
import { cookieOf, orgWithOidcSso, ssoAudit, ssoLogin } from '../helpers/sso.js';

/**
 * A SCIM suspension holds against every other way back into the org: the org's own single sign-on
 * (its just-in-time membership), and an earlier suspension left behind once the person rejoined
 * and left again through the console.
 */
const SCIM_JSON = 'application/scim+json';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';

let app: TestApp;
let idp: InProcessProvider;
let redirectUri: string;
let owner: TestUser;
let org: { id: string; slug: string };
let scimToken: string;

beforeAll(async () => {
  ({ app, idp, redirectUri, owner, org } = await orgWithOidcSso('scim-sso-owner'));
  const issued = await app.request('POST', `/api/orgs/${org.id}/scim-tokens`, {
    token: await sudoToken(app, owner),
    body: { name: 'Okta' },
  });
  if (issued.status !== 201) throw new Error(`token failed: ${issued.text}`);
  scimToken = issued.body.token;
}, 240_000);

afterAll(async () => {
  await app?.stop();
  await idp?.stop();
});

function scim(method: string, path: string, body?: unknown) {
  return app.request(method, `/api/scim/v2${path}`, {
    token: scimToken,
    ...(body !== undefined ? { raw: JSON.stringify(body) } : {}),
    headers: body !== undefined ? { 'content-type': SCIM_JSON } : {},
  });
}

const setActive = (id: string, active: boolean) =>
  scim('PATCH', `/Users/${id}`, {
    schemas: [PATCH],
    Operations: [{ op: 'replace', path: 'active', value: active }],
  });

function membership(userId: string) {
  return app.runtime.platform.db
    .selectFrom('memberships')
    .selectAll()
    .where('org_id', '=', org.id)
    .where('user_id', '=', userId)
    .executeTakeFirst();
}

const ssoSignIn = () => ssoLogin(app, org.slug, redirectUri);

describe('a SCIM suspension', () => {
  it("is not undone by the org's single sign-on: no membership, no session, audited", async () => {
    const email = `jit-${Date.now()}@acme.test`;
    idp.user = { sub: `idp-${email}`, email, email_verified: true };
    const first = await ssoSignIn();
    expect(first.status, first.text).toBe(302);
    const found = await scim('GET', `/Users?filter=${encodeURIComponent(`userName eq "${email}"`)}`);
    const id: string = found.body.Resources[0].id;
    const admin = await scim('PATCH', '/Groups/admin', {
      schemas: [PATCH],
      Operations: [{ op: 'add', path: 'members', value: [{ value: id }] }],
    });
    expect(admin.status, admin.text).toBe(200);
    expect((await setActive(id, false)).body.active).toBe(false);

    const again = await ssoSignIn();
    expect([again.status, again.body?.error?.code]).toEqual([403, 'INSUFFICIENT_ROLE']);
    expect(cookieOf(again, '__Host-sf_session')).toBeUndefined();
    expect(await membership(id)).toBeUndefined();
    expect((await ssoAudit(app, org.id)).at(-1)).toMatchObject({
      action: 'sso.login',
      outcome: 'refused',
      reason: 'scim_suspended',
    });
    expect((await scim('GET', `/Users/${id}`)).body.active).toBe(false);

    // The identity provider's re-activation is what brings the person back, with their role.
    expect((await setActive(id, true)).body.active).toBe(true);
    expect((await membership(id))?.role).toBe('admin');
    expect((await ssoSignIn()).status).toBe(302);
  });

  it('left behind after the person rejoined by invitation and then left, does not let SCIM bring them back', async () => {
    const person = await newUser(app, 'rejoined');
    await grantMembership(app, org.id, person.userId, 'admin');
    expect(
      (
        await scim('PUT', `/Users/${person.userId}`, {
          schemas: [USER],
          userName: person.email,
          active: false,
        })
      ).status,
    ).toBe(200);
    expect(await membership(person.userId)).toBeUndefined();

    // An owner invites the person back as a viewer; they accept, then leave the org themselves.
    const invited = await app.request('POST', `/api/orgs/${org.id}/invitations`, {
      token: owner.token,
      body: { email: person.email, role: 'viewer' },
    });
    expect(invited.status, invited.text).toBe(201);
    await app.settle();
    const accepted = await app.request('POST', '/api/orgs/invitations/accept', {
      token: person.token,
      body: { token: app.tokenFromMail(person.email, 'invitation') },
    });
    expect(accepted.status, accepted.text).toBe(200);
    expect((await membership(person.userId))?.role).toBe('viewer');
    expect((await scim('GET', `/Users/${person.userId}`)).body.active).toBe(true);
    const left = await app.request('POST', `/api/orgs/${org.id}/leave`, { token: accepted.body.token });
    expect(left.status, left.text).toBeLessThan(300);
    expect(await membership(person.userId)).toBeUndefined();

    // The old suspension is no way back: the person chose to leave, and SCIM never had them since.
    const back = await setActive(person.userId, true);
    expect(back.status, back.text).toBe(404);
    expect(await membership(person.userId)).toBeUndefined();
  });

  it("stops what the person had in the org: their SSO session's live stream ends revoked, their API key is refused", async () => {
    const email = `streamer-${Date.now()}@acme.test`;
    idp.user = { sub: `idp-${email}`, email, email_verified: true };
    const signedIn = await ssoSignIn();
    const ssoToken = cookieOf(signedIn, '__Host-sf_session') ?? '';
    const found = await scim('GET', `/Users?filter=${encodeURIComponent(`userName eq "${email}"`)}`);
    const id: string = found.body.Resources[0].id;
    expect(
      (
        await scim('PATCH', '/Groups/admin', {
          schemas: [PATCH],
          Operations: [{ op: 'add', path: 'members', value: [{ value: id }] }],
        })
      ).status,
    ).toBe(200);
    // The raise ended the SSO session; the person signs in again as an admin and makes a key.
    const adminToken = cookieOf(await ssoSignIn(), '__Host-sf_session') ?? '';
    const key = await app.request('POST', `/api/orgs/${org.id}/keys`, {
      token: adminToken,
      body: { name: 'ci', role: 'member' },
    });
    expect(key.status, key.text).toBe(201);
    const useKey = () => app.request('GET', `/api/orgs/${org.id}/members`, { token: key.body.key });
    expect((await useKey()).status).toBe(200);
    expect(ssoToken).not.toBe(adminToken);

    const stream = await fetch(`${app.url}/api/sessions/stream`, {
      headers: { authorization: `Bearer ${adminToken}` },
    });
    expect(stream.status).toBe(200);
    const reader = stream.body!.getReader();
    const decoder = new TextDecoder();
    let received = decoder.decode((await reader.read()).value);
    expect(received).toContain('event: ready');

    expect((await setActive(id, false)).body.active).toBe(false);
    await app.settle();
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) break;
      received += decoder.decode(chunk.value);
    }
    expect(received).toContain('event: revoked');
    expect(received).toContain('"reason":"scim_deprovisioned"');
    expect((await useKey()).status).toBe(401);
  });
});
