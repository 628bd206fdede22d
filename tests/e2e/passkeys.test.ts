import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock, MINUTE_MS, SECOND_MS } from '../../shared/time/clock.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { enableMfa } from '../helpers/mfa.js';
import {
  createOrg,
  expectError,
  grantMembership,
  newUser,
  nextIp,
  orgTestEnv,
  sudoToken,
  type TestUser,
} from '../helpers/orgs.js';
import { FLAG, SoftAuthenticator } from '../helpers/passkeys.js';
import { auditCount } from '../helpers/sessions.js';

let app: TestApp;
const clock = new FakeClock('2026-05-04T09:00:00Z');
const RP = { origin: 'http://localhost:8080', rpId: 'localhost' };

beforeAll(async () => {
  app = await startTestApp({ clock, env: orgTestEnv });
});
afterAll(async () => {
  await app?.stop();
});

const db = () => app.runtime.platform.db;
const from = () => ({ 'x-forwarded-for': nextIp(), 'user-agent': 'passkey-test/1.0' });

async function registrationOptions(token: string) {
  const options = await app.request('POST', '/api/passkeys/register/options', { token });
  expect(options.status, options.text).toBe(200);
  return options.body;
}

/** A signed-in user with a passkey in `authenticator`; `token` is the stepped-up session. */
async function userWithPasskey(label: string, authenticator = new SoftAuthenticator(RP)) {
  const user = await newUser(app, label);
  const token = await sudoToken(app, user);
  const options = await registrationOptions(token);
  const registered = await app.request('POST', '/api/passkeys/register/verify', {
    token,
    body: { response: authenticator.create(options), name: `${label} key` },
  });
  expect(registered.status, registered.text).toBe(201);
  return { user: { ...user, token }, authenticator, passkeyId: registered.body.id as string };
}

async function loginOptions(headers = from()) {
  const options = await app.request('POST', '/api/login/passkey/options', { headers });
  expect(options.status, options.text).toBe(200);
  return options.body as { challengeId: string; options: { challenge: string } };
}

function passkeyLogin(challengeId: string, response: unknown, headers = from()) {
  return app.request('POST', '/api/login/passkey/verify', { body: { challengeId, response }, headers });
}

async function stepUpOptions(token: string) {
  const options = await app.request('POST', '/api/sessions/step-up/passkey/options', { token });
  expect(options.status, options.text).toBe(200);
  return options.body as {
    challengeId: string;
    options: { challenge: string; allowCredentials: { id: string }[] };
  };
}

function passkeyStepUp(token: string, challengeId: string, passkey: unknown) {
  return app.request('POST', '/api/sessions/step-up', {
    token,
    body: { challengeId, passkey },
    headers: { 'x-forwarded-for': nextIp() },
  });
}

/** The metadata of the user's newest audit row of `action`. */
async function newestAuditMetadata(userId: string, action: string) {
  const row = await db()
    .selectFrom('audit_logs')
    .select('metadata')
    .where('chain', '=', `user:${userId}`)
    .where('action', '=', action)
    .orderBy('seq', 'desc')
    .executeTakeFirstOrThrow();
  return row.metadata;
}

async function passkeyRow(id: string) {
  return db().selectFrom('passkey_credentials').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

describe('registering a passkey', () => {
  it('needs a step-up for both the options and the verification', async () => {
    const user = await newUser(app, 'nostep');
    expectError(
      await app.request('POST', '/api/passkeys/register/options', { token: user.token }),
      403,
      'STEP_UP_REQUIRED',
    );
    const sudo = await sudoToken(app, user);
    const options = await registrationOptions(sudo);
    const response = new SoftAuthenticator(RP).create(options);
    // The plain session (no sudo) of the same user cannot finish it either.
    expectError(
      await app.request('POST', '/api/passkeys/register/verify', { token: user.token, body: { response } }),
      403,
      'STEP_UP_REQUIRED',
    );
    expect((await app.request('GET', '/api/passkeys', { token: user.token })).body.passkeys).toEqual([]);
  });

  it('stores the credential and answers its view; the options require user verification and resident keys and exclude it afterwards', async () => {
    const user = await newUser(app, 'reg');
    const token = await sudoToken(app, user);
    const options = await registrationOptions(token);
    expect(options.rp).toEqual({ name: 'SessionForge', id: 'localhost' });
    expect(options.authenticatorSelection).toMatchObject({
      residentKey: 'required',
      userVerification: 'required',
    });
    expect(options.attestation).toBe('none');
    expect(options.excludeCredentials).toEqual([]);
    const aaguid = Buffer.from('0123456789abcdef0123456789abcdef', 'hex');
    const authenticator = new SoftAuthenticator(RP, aaguid);
    const response = authenticator.create(options);
    const registered = await app.request('POST', '/api/passkeys/register/verify', {
      token,
      body: { response, name: 'Laptop' },
    });
    expect(registered.status, registered.text).toBe(201);
    expect(registered.body).toEqual({
      id: expect.any(String),
      name: 'Laptop',
      createdAt: clock.now().toISOString(),
      lastUsedAt: null,
      backedUp: false,
    });
    const row = await passkeyRow(registered.body.id);
    expect(row).toMatchObject({
      user_id: user.userId,
      credential_id: response.id,
      backup_eligible: true,
      backed_up: false,
      aaguid: '01234567-89ab-cdef-0123-456789abcdef',
      name: 'Laptop',
    });
    expect(Number(row.sign_count)).toBe(0);
    expect(row.public_key.length).toBeGreaterThan(60);
    expect(await auditCount(app, user.userId, 'passkey.registered')).toBe(1);

    const listed = await app.request('GET', '/api/passkeys', { token: user.token });
    expect(listed.body.passkeys).toEqual([registered.body]);
    const again = await registrationOptions(token);
    expect(again.excludeCredentials).toEqual([
      { id: response.id, type: 'public-key', transports: ['internal'] },
    ]);
  });

  it.each([
    ['a wrong origin', { origin: 'https://evil.example' }],
    ['a wrong RP ID hash', { rpId: 'evil.example' }],
    ['no user verification', { withoutFlags: FLAG.UV }],
  ])('refuses a response with %s and stores nothing', async (_label, ceremony) => {
    const user = await newUser(app, 'regbad');
    const token = await sudoToken(app, user);
    const response = new SoftAuthenticator(RP).create(await registrationOptions(token), ceremony);
    expectError(
      await app.request('POST', '/api/passkeys/register/verify', { token, body: { response } }),
      400,
      'VALIDATION_FAILED',
    );
    expect(
      await db().selectFrom('passkey_credentials').select('id').where('user_id', '=', user.userId).execute(),
    ).toEqual([]);
  });

  it('refuses a replayed, an expired and another session’s challenge', async () => {
    const user = await newUser(app, 'regchal');
    const token = await sudoToken(app, user);
    const authenticator = new SoftAuthenticator(RP);
    const response = authenticator.create(await registrationOptions(token));
    expect(
      (await app.request('POST', '/api/passkeys/register/verify', { token, body: { response } })).status,
    ).toBe(201);
    // Replay: the very same response again.
    expectError(
      await app.request('POST', '/api/passkeys/register/verify', { token, body: { response } }),
      400,
      'VALIDATION_FAILED',
    );

    const late = authenticator.create(await registrationOptions(token));
    clock.advance(5 * MINUTE_MS + SECOND_MS);
    const fresh = await sudoToken(app, user);
    expectError(
      await app.request('POST', '/api/passkeys/register/verify', { token: fresh, body: { response: late } }),
      400,
      'VALIDATION_FAILED',
    );

    // Options another session of the same user asked for.
    const other = await sudoToken(app, user);
    const foreign = authenticator.create(await registrationOptions(other));
    expectError(
      await app.request('POST', '/api/passkeys/register/verify', {
        token: fresh,
        body: { response: foreign },
      }),
      400,
      'VALIDATION_FAILED',
    );
    expect((await app.request('GET', '/api/passkeys', { token: fresh })).body.passkeys).toHaveLength(1);
  });
});

describe('signing in with a passkey', () => {
  it('answers exactly as POST /api/login, without MFA_REQUIRED for a user with TOTP, and audits method passkey', async () => {
    const { user, authenticator, passkeyId } = await userWithPasskey('signin');
    await enableMfa(app, clock, user);
    const password = await app.request('POST', '/api/login', {
      body: { email: user.email, password: user.password },
      headers: from(),
    });
    expectError(password, 401, 'MFA_REQUIRED');

    const headers = from();
    const { challengeId, options } = await loginOptions(headers);
    expect(options).toMatchObject({ rpId: 'localhost', userVerification: 'required', allowCredentials: [] });
    const signedIn = await passkeyLogin(challengeId, authenticator.get(options), headers);
    expect(signedIn.status, signedIn.text).toBe(200);
    expect(Object.keys(signedIn.body).sort()).toEqual(['session', 'token', 'user']);
    expect(signedIn.body.user).toEqual({ id: user.userId, email: user.email, name: 'signin' });
    expect(signedIn.headers.get('set-cookie')).toContain(signedIn.body.token);
    const current = await app.request('GET', '/api/sessions/current', { token: signedIn.body.token });
    expect(current.status).toBe(200);

    expect(await newestAuditMetadata(user.userId, 'login.succeeded')).toMatchObject({ method: 'passkey' });
    const row = await passkeyRow(passkeyId);
    expect(Number(row.sign_count)).toBe(1);
    expect(row.last_used_at).toEqual(clock.now());
    // A new device: the notice mail goes out as for any login.
    await app.settle();
    expect(
      app.mails().filter((m) => m.to === user.email && m.action.type === 'new-device').length,
    ).toBeGreaterThan(0);
  });

  it.each([
    ['a wrong origin', { origin: 'https://evil.example' }],
    ['a wrong RP ID hash', { rpId: 'evil.example' }],
    ['no user verification', { withoutFlags: FLAG.UV }],
  ])('refuses an assertion with %s and audits the failure', async (_label, ceremony) => {
    const { user, authenticator } = await userWithPasskey('loginbad');
    const succeeded = await auditCount(app, user.userId, 'login.succeeded');
    const { challengeId, options } = await loginOptions();
    expectError(
      await passkeyLogin(challengeId, authenticator.get(options, ceremony)),
      401,
      'INVALID_CREDENTIALS',
    );
    expect(await auditCount(app, user.userId, 'login.failed')).toBe(1);
    expect(await auditCount(app, user.userId, 'login.succeeded')).toBe(succeeded);
  });

  it('refuses a replayed assertion, an expired challenge and a challenge issued under another id', async () => {
    const { authenticator } = await userWithPasskey('loginchal');
    const first = await loginOptions();
    const response = authenticator.get(first.options);
    expect((await passkeyLogin(first.challengeId, response)).status).toBe(200);
    expectError(await passkeyLogin(first.challengeId, response), 401, 'INVALID_CREDENTIALS');

    const late = await loginOptions();
    const lateResponse = authenticator.get(late.options);
    clock.advance(5 * MINUTE_MS + SECOND_MS);
    expectError(await passkeyLogin(late.challengeId, lateResponse), 401, 'INVALID_CREDENTIALS');

    const mine = await loginOptions();
    const theirs = await loginOptions();
    expectError(
      await passkeyLogin(mine.challengeId, authenticator.get(theirs.options)),
      401,
      'INVALID_CREDENTIALS',
    );
    // Nor does naming an unknown challenge id work.
    expectError(
      await passkeyLogin('00000000-0000-4000-8000-000000000000', authenticator.get(mine.options)),
      401,
      'INVALID_CREDENTIALS',
    );
  });

  it('refuses a passkey nobody registered, a disabled account and (telling only the key holder) an unverified address', async () => {
    const stranger = new SoftAuthenticator(RP);
    stranger.create({ challenge: 'x', user: { id: 'nobody' } });
    const unknown = await loginOptions();
    expectError(
      await passkeyLogin(unknown.challengeId, stranger.get(unknown.options)),
      401,
      'INVALID_CREDENTIALS',
    );

    const { user, authenticator } = await userWithPasskey('disabled');
    await db().updateTable('users').set({ disabled_at: clock.now() }).where('id', '=', user.userId).execute();
    const disabled = await loginOptions();
    expectError(
      await passkeyLogin(disabled.challengeId, authenticator.get(disabled.options)),
      401,
      'INVALID_CREDENTIALS',
    );

    await db()
      .updateTable('users')
      .set({ disabled_at: null, email_verified_at: null })
      .where('id', '=', user.userId)
      .execute();
    const unverified = await loginOptions();
    expectError(
      await passkeyLogin(unverified.challengeId, authenticator.get(unverified.options)),
      403,
      'EMAIL_NOT_VERIFIED',
    );
  });

  it('refuses a counter that goes backwards and audits passkey.clone_suspected', async () => {
    const { user, authenticator, passkeyId } = await userWithPasskey('clone');
    const one = await loginOptions();
    expect((await passkeyLogin(one.challengeId, authenticator.get(one.options, { counter: 7 }))).status).toBe(
      200,
    );
    const two = await loginOptions();
    expectError(
      await passkeyLogin(two.challengeId, authenticator.get(two.options, { counter: 3 })),
      401,
      'INVALID_CREDENTIALS',
    );
    expect(await auditCount(app, user.userId, 'passkey.clone_suspected')).toBe(1);
    expect(Number((await passkeyRow(passkeyId)).sign_count)).toBe(7);
    // The genuine authenticator, counting on, still works.
    const three = await loginOptions();
    expect(
      (await passkeyLogin(three.challengeId, authenticator.get(three.options, { counter: 8 }))).status,
    ).toBe(200);
  });

  it('accepts an authenticator that never counts (both counters zero) every time', async () => {
    const { authenticator } = await userWithPasskey(
      'nocount',
      new SoftAuthenticator(RP, Buffer.alloc(16), 0),
    );
    for (let i = 0; i < 2; i++) {
      const { challengeId, options } = await loginOptions();
      expect((await passkeyLogin(challengeId, authenticator.get(options))).status).toBe(200);
    }
  });

  it('shares the per-IP limit of POST /api/login', async () => {
    const { authenticator } = await userWithPasskey('limit');
    const headers = from();
    for (let i = 0; i < 10; i++) {
      const password = await app.request('POST', '/api/login', {
        body: { email: 'nobody@example.com', password: 'wrong password 123' },
        headers,
      });
      expect(password.status).toBe(401);
    }
    const { challengeId, options } = await loginOptions(headers);
    expectError(await passkeyLogin(challengeId, authenticator.get(options), headers), 429, 'RATE_LIMITED');
  });
});

describe('passkey step-up', () => {
  it('opens a sudo window on a fresh session and audits step_up.succeeded with method passkey', async () => {
    const { user, authenticator } = await userWithPasskey('stepup');
    const plain = await newSession(user);
    const { challengeId, options } = await stepUpOptions(plain);
    expect(options.allowCredentials.map((c) => c.id)).toEqual([
      authenticator.credentials[0]?.id.toString('base64url'),
    ]);
    const stepped = await passkeyStepUp(plain, challengeId, authenticator.get(options));
    expect(stepped.status, stepped.text).toBe(200);
    expect(stepped.body.sudoUntil).toBe(new Date(clock.now().getTime() + 10 * MINUTE_MS).toISOString());
    expect((await app.request('GET', '/api/sessions/current', { token: plain })).status).toBe(401);
    expect(await newestAuditMetadata(user.userId, 'step_up.succeeded')).toMatchObject({ method: 'passkey' });
    // The window works: removing needs a step-up.
    const listed = await app.request('GET', '/api/passkeys', { token: stepped.body.token });
    expect(
      (
        await app.request('DELETE', `/api/passkeys/${listed.body.passkeys[0].id}`, {
          token: stepped.body.token,
        })
      ).status,
    ).toBe(204);
  });

  it("refuses another user's passkey and a challenge of another session", async () => {
    const alice = await userWithPasskey('alice');
    const mallory = await userWithPasskey('mallory');
    const session = await newSession(alice.user);
    const options = await stepUpOptions(session);
    expectError(
      await passkeyStepUp(session, options.challengeId, mallory.authenticator.get(options.options)),
      401,
      'INVALID_CREDENTIALS',
    );

    const other = await newSession(alice.user);
    const theirs = await stepUpOptions(other);
    expectError(
      await passkeyStepUp(session, theirs.challengeId, alice.authenticator.get(theirs.options)),
      401,
      'INVALID_CREDENTIALS',
    );
    // Nor is a sign-in challenge a step-up one.
    const signIn = await loginOptions();
    expectError(
      await passkeyStepUp(session, signIn.challengeId, alice.authenticator.get(signIn.options)),
      401,
      'INVALID_CREDENTIALS',
    );
    expect(await auditCount(app, alice.user.userId, 'step_up.succeeded')).toBe(1);
  });

  it('refuses a counter that goes backwards', async () => {
    const { user, authenticator } = await userWithPasskey('stepclone');
    const session = await newSession(user);
    const first = await stepUpOptions(session);
    const stepped = await passkeyStepUp(
      session,
      first.challengeId,
      authenticator.get(first.options, { counter: 9 }),
    );
    expect(stepped.status).toBe(200);
    const second = await stepUpOptions(stepped.body.token);
    expectError(
      await passkeyStepUp(
        stepped.body.token,
        second.challengeId,
        authenticator.get(second.options, { counter: 9 }),
      ),
      401,
      'INVALID_CREDENTIALS',
    );
    expect(await auditCount(app, user.userId, 'passkey.clone_suspected')).toBe(1);
  });
});

describe('managing passkeys', () => {
  it("renames and removes your own; another user's passkey answers 404; removal needs a step-up", async () => {
    const owner = await userWithPasskey('manage');
    const other = await newUser(app, 'other');
    const path = `/api/passkeys/${owner.passkeyId}`;
    expectError(
      await app.request('PATCH', path, { token: other.token, body: { name: 'Mine now' } }),
      404,
      'NOT_FOUND',
    );
    expectError(await app.request('DELETE', path, { token: await sudoToken(app, other) }), 404, 'NOT_FOUND');
    expectError(
      await app.request('PATCH', '/api/passkeys/not-an-id', { token: other.token, body: { name: 'x' } }),
      404,
      'NOT_FOUND',
    );

    const plain = await newSession(owner.user);
    const renamed = await app.request('PATCH', path, { token: plain, body: { name: '  Phone ' } });
    expect(renamed.status, renamed.text).toBe(200);
    expect(renamed.body.name).toBe('Phone');
    expectError(
      await app.request('PATCH', path, { token: plain, body: { name: '' } }),
      400,
      'VALIDATION_FAILED',
    );
    expectError(await app.request('DELETE', path, { token: plain }), 403, 'STEP_UP_REQUIRED');
    expect((await app.request('DELETE', path, { token: owner.user.token })).status).toBe(204);
    expect((await app.request('GET', '/api/passkeys', { token: plain })).body.passkeys).toEqual([]);
    expect(await auditCount(app, owner.user.userId, 'passkey.renamed')).toBe(1);
    expect(await auditCount(app, owner.user.userId, 'passkey.removed')).toBe(1);
    expect(await auditCount(app, other.userId, 'passkey.removed')).toBe(0);
  });
});

describe('org policy requirePasskey', () => {
  async function orgRequiringPasskeys(admin: TestUser, policy: Record<string, unknown> = {}) {
    const org = await createOrg(app, admin);
    const set = await app.request('PATCH', `/api/orgs/${org.id}/policy`, {
      token: admin.token,
      body: { requirePasskey: true, ...policy },
    });
    expect(set.status, set.text).toBe(200);
    expect(set.body).toMatchObject({ requirePasskey: true });
    return org;
  }
  const putAllowlist = (orgId: string, token: string) =>
    app.request('PUT', `/api/orgs/${orgId}/allowlist`, { token, body: { enabled: false, entries: [] } });

  it('accepts only a passkey step-up on the org’s step-up routes', async () => {
    const { user, authenticator } = await userWithPasskey('policy');
    const org = await orgRequiringPasskeys(user);
    const byPassword = await sudoToken(app, user);
    const refused = await putAllowlist(org.id, byPassword);
    expectError(refused, 403, 'STEP_UP_REQUIRED');
    expect(refused.body.error.methods).toEqual(['passkey']);
    // Personal step-up routes are the account's own business: a password window still does there.
    expect((await registrationOptions(byPassword)).challenge).toEqual(expect.any(String));

    const options = await stepUpOptions(byPassword);
    const stepped = await passkeyStepUp(byPassword, options.challengeId, authenticator.get(options.options));
    expect(stepped.status).toBe(200);
    expect((await putAllowlist(org.id, stepped.body.token)).status).toBe(200);
    // An org without the policy still takes a password window.
    const plainOrg = await createOrg(app, user);
    expect((await putAllowlist(plainOrg.id, await sudoToken(app, user))).status).toBe(200);
  });

  it('holds for the step-ups routes ask for themselves: owner API keys and owner invitations', async () => {
    const { user, authenticator } = await userWithPasskey('ownerstep');
    const org = await orgRequiringPasskeys(user);
    const byPassword = await sudoToken(app, user);
    const ownerKey = { name: 'deploy', role: 'owner' };
    const invite = { email: `heir-${Date.now()}@example.com`, role: 'owner' };
    for (const [path, body] of [
      [`/api/orgs/${org.id}/keys`, ownerKey],
      [`/api/orgs/${org.id}/invitations`, invite],
    ] as const) {
      const refused = await app.request('POST', path, { token: byPassword, body });
      expectError(refused, 403, 'STEP_UP_REQUIRED');
      expect(refused.body.error.methods).toEqual(['passkey']);
    }
    const options = await stepUpOptions(byPassword);
    const stepped = await passkeyStepUp(byPassword, options.challengeId, authenticator.get(options.options));
    expect(
      (await app.request('POST', `/api/orgs/${org.id}/keys`, { token: stepped.body.token, body: ownerKey }))
        .status,
    ).toBe(201);
    expect(
      (
        await app.request('POST', `/api/orgs/${org.id}/invitations`, {
          token: stepped.body.token,
          body: invite,
        })
      ).status,
    ).toBe(201);
  });

  it('with allowedAaguids counts only passkeys of those authenticator models', async () => {
    const model = '11111111-2222-3333-4444-555555555555';
    const { user, authenticator } = await userWithPasskey('aaguid');
    const org = await orgRequiringPasskeys(user, { allowedAaguids: [model.toUpperCase()] });
    const policy = await app.request('GET', `/api/orgs/${org.id}/policy`, { token: user.token });
    expect(policy.body.allowedAaguids).toEqual([model]);
    const session = await newSession(user);
    const options = await stepUpOptions(session);
    const stepped = await passkeyStepUp(session, options.challengeId, authenticator.get(options.options));
    expect(stepped.status).toBe(200);
    expect((await putAllowlist(org.id, stepped.body.token)).body.error.methods).toEqual(['passkey']);

    const fleet = new SoftAuthenticator(RP, Buffer.from(model.replaceAll('-', ''), 'hex'));
    const sudo = await sudoToken(app, user);
    const added = await app.request('POST', '/api/passkeys/register/verify', {
      token: sudo,
      body: { response: fleet.create(await registrationOptions(sudo)) },
    });
    expect(added.status).toBe(201);
    const again = await stepUpOptions(sudo);
    const byFleetKey = await passkeyStepUp(sudo, again.challengeId, fleet.get(again.options));
    expect(byFleetKey.status).toBe(200);
    expect((await putAllowlist(org.id, byFleetKey.body.token)).status).toBe(200);
  });

  it('refuses removing your last passkey while an org of yours requires one (409)', async () => {
    const { user, passkeyId } = await userWithPasskey('last');
    const admin = await newUser(app, 'orgadmin');
    const org = await orgRequiringPasskeys(admin);
    await grantMembership(app, org.id, user.userId, 'member');
    const refused = await app.request('DELETE', `/api/passkeys/${passkeyId}`, { token: user.token });
    expectError(refused, 409, 'CONFLICT');
    expect(refused.body.error.orgs).toEqual([org.slug]);

    const second = await app.request('POST', '/api/passkeys/register/verify', {
      token: user.token,
      body: { response: new SoftAuthenticator(RP).create(await registrationOptions(user.token)) },
    });
    expect(second.status).toBe(201);
    expect((await app.request('DELETE', `/api/passkeys/${passkeyId}`, { token: user.token })).status).toBe(
      204,
    );
    expectError(
      await app.request('DELETE', `/api/passkeys/${second.body.id}`, { token: user.token }),
      409,
      'CONFLICT',
    );
  });
});

describe("an org that verified the account's domain and enforces SSO", () => {
  it("sends a passkey sign-in of that domain to the org's SSO, like a password sign-in", async () => {
    const { user, authenticator } = await userWithPasskey('enforced');
    const domain = user.email.slice(user.email.indexOf('@') + 1);
    const owner = await newUser(app, 'domain-owner');
    const org = await createOrg(app, owner);
    await db()
      .insertInto('org_domains')
      .values({ org_id: org.id, domain, txt_token: 't', verified_at: clock.now(), created_at: clock.now() })
      .execute();
    await db().updateTable('orgs').set({ enforce_sso: true }).where('id', '=', org.id).execute();
    try {
      const headers = from();
      const { challengeId, options } = await loginOptions(headers);
      const refused = await passkeyLogin(challengeId, authenticator.get(options), headers);
      expectError(refused, 403, 'SSO_REQUIRED');
      expect(refused.body.error.ssoUrl).toContain(`/api/login/sso/${org.slug}`);
    } finally {
      await db().deleteFrom('org_domains').where('org_id', '=', org.id).execute();
    }
    // Without the enforcing org, the same passkey signs in.
    const headers = from();
    const { challengeId, options } = await loginOptions(headers);
    expect((await passkeyLogin(challengeId, authenticator.get(options), headers)).status).toBe(200);
  });
});

/** A new, un-stepped-up session of the user (a password login from a fresh address). */
async function newSession(user: TestUser): Promise<string> {
  const login = await app.request('POST', '/api/login', {
    body: { email: user.email, password: user.password },
    headers: { 'x-forwarded-for': nextIp() },
  });
  expect(login.status, login.text).toBe(200);
  return login.body.token;
}
