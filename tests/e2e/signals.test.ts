import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock, HOUR_MS, MINUTE_MS } from '../../shared/time/clock.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { client, codeAt, enableMfa, mfaStep, passwordStep, stepUpWithCode } from '../helpers/mfa.js';
import { createOrg, grantMembership, newUser, orgTestEnv, type TestUser } from '../helpers/orgs.js';

// Real public addresses and where the bundled DB-IP Lite database puts them.
const US = '8.8.8.8'; // Google Public DNS → US, Mountain View
const DE = '85.214.132.117'; // Strato AG → DE, Berlin
const JP = '210.130.1.1'; // IIJ → JP, Tokyo (Chiyoda City)

let app: TestApp;
const clock = new FakeClock('2026-11-02T09:00:00Z');

beforeAll(async () => {
  app = await startTestApp({ env: orgTestEnv, clock });
});
afterAll(() => app?.stop());
// Each test starts an hour on: login throttles of earlier tests' addresses have moved on.
beforeEach(() => clock.advance(HOUR_MS));

async function loginFrom(user: TestUser, ip: string, userAgent = 'signals-test/1.0') {
  const response = await app.request('POST', '/api/login', {
    body: { email: user.email, password: user.password },
    headers: client(ip, userAgent),
  });
  expect(response.status, response.text).toBe(200);
  return {
    token: response.body.token as string,
    sessionId: response.body.session.id as string,
    body: response.body,
  };
}

async function securityEvents(token: string) {
  const response = await app.request('GET', '/api/accounts/security-events', { token });
  expect(response.status, response.text).toBe(200);
  return response.body.events as Array<Record<string, unknown>>;
}

async function auditRow(userId: string, action: string) {
  return app.runtime.platform.db
    .selectFrom('audit_logs')
    .selectAll()
    .where('chain', '=', `user:${userId}`)
    .where('action', '=', action)
    .orderBy('seq', 'desc')
    .executeTakeFirst();
}

/** A user whose last located sign-in was in the US, then a German one ten minutes later. */
async function usThenGermany() {
  const user = await newUser(app, 'traveller');
  const home = await loginFrom(user, US);
  clock.advance(10 * MINUTE_MS);
  const away = await loginFrom(user, DE, 'elsewhere/2.0');
  await app.settle();
  return { user, home, away };
}

describe('where each sign-in came from', () => {
  it('a public address puts its country and city on the session, the device and the login audit row', async () => {
    const user = await newUser(app);
    const signedIn = await loginFrom(user, JP);
    const current = await app.request('GET', '/api/sessions/current', { token: signedIn.token });
    expect(current.body.session).toMatchObject({ country: 'JP', city: expect.any(String), ip: JP });
    const devices = await app.request('GET', '/api/sessions/devices', { token: signedIn.token });
    expect(devices.body.devices).toEqual(
      expect.arrayContaining([expect.objectContaining({ country: 'JP', userAgent: 'signals-test/1.0' })]),
    );
    const row = await auditRow(user.userId, 'login.succeeded');
    expect(row?.metadata).toMatchObject({ country: 'JP', userAgent: 'signals-test/1.0' });

    const us = await loginFrom(user, US);
    const usCurrent = await app.request('GET', '/api/sessions/current', { token: us.token });
    expect(usCurrent.body.session).toMatchObject({ country: 'US', city: 'Mountain View' });
  });

  it('private, CGNAT and loopback addresses are not located and raise no country or travel event', async () => {
    const user = await newUser(app); // signed in from 10.x
    const privateLogin = await loginFrom(user, '192.168.1.20');
    clock.advance(MINUTE_MS);
    const cgnat = await loginFrom(user, '100.64.3.4');
    clock.advance(MINUTE_MS);
    const loopback = await loginFrom(user, '127.0.0.1');
    for (const login of [privateLogin, cgnat, loopback]) {
      const current = await app.request('GET', '/api/sessions/current', { token: login.token });
      expect(current.body.session).toMatchObject({ country: null, city: null, stepUpReason: null });
    }
    const types = (await securityEvents(user.token)).map((e) => e.type);
    expect(types).not.toContain('country_changed');
    expect(types).not.toContain('impossible_travel');
  });

  it('a sign-in a day after one in another country is a country change, not impossible travel', async () => {
    const user = await newUser(app);
    await loginFrom(user, US);
    clock.advance(24 * HOUR_MS);
    const away = await loginFrom(user, DE);
    expect(away.body.session.stepUpReason).toBeNull();
    const events = await securityEvents(away.token);
    expect(events.map((e) => e.type)).toContain('country_changed');
    expect(events.map((e) => e.type)).not.toContain('impossible_travel');
  });
});

describe('impossible travel', () => {
  it('a US sign-in then a German one ten minutes later records both events and holds the second session', async () => {
    const { user, home, away } = await usThenGermany();
    expect(away.body.session.stepUpReason).toBe('impossible_travel');

    const events = await securityEvents(home.token);
    const travel = events.find((e) => e.type === 'impossible_travel');
    const changed = events.find((e) => e.type === 'country_changed');
    expect(travel).toMatchObject({
      sessionId: away.sessionId,
      country: 'DE',
      ip: DE,
      userAgent: 'elsewhere/2.0',
    });
    expect(changed).toMatchObject({ sessionId: away.sessionId, country: 'DE', acknowledged: false });
    const row = await auditRow(user.userId, 'login.impossible_travel');
    expect(row?.metadata).toMatchObject({ fromCountry: 'US', toCountry: 'DE', hours: 0.167 });
    expect(row?.metadata.km).toBeGreaterThan(8000);
    expect(row?.metadata.kmh).toBeGreaterThan(40_000);

    // The held session: refused everywhere but its own session views, step-up and logout.
    for (const [method, path] of [
      ['GET', '/api/accounts/security-events'],
      ['GET', '/api/orgs'],
      ['POST', '/api/orgs'],
      ['POST', '/api/sessions/revoke-others'],
      // An org route is refused before membership is even looked at.
      ['GET', '/api/orgs/00000000-0000-4000-8000-000000000000/members'],
    ] as const) {
      const body =
        method === 'POST' && path === '/api/orgs' ? { name: 'Held', slug: `held-${Date.now()}` } : undefined;
      const refused = await app.request(method, path, { token: away.token, body });
      expect(refused.status, `${method} ${path}`).toBe(403);
      expect(refused.body.error).toMatchObject({ code: 'STEP_UP_REQUIRED', reason: 'impossible_travel' });
    }
    expect((await app.request('GET', '/api/sessions', { token: away.token })).status).toBe(200);
    const current = await app.request('GET', '/api/sessions/current', { token: away.token });
    expect(current.body.session.stepUpReason).toBe('impossible_travel');
    // No authenticator app: the console tells the user to open the mailed link.
    expect(current.body.hold).toEqual({ reason: 'impossible_travel', methods: ['link'] });
    const homeCurrent = await app.request('GET', '/api/sessions/current', { token: home.token });
    expect(homeCurrent.body.hold).toBeNull();
    // Whoever signed in there knew the password: it cannot lift the hold.
    const byPassword = await app.request('POST', '/api/sessions/step-up', {
      token: away.token,
      body: { password: user.password },
    });
    expect(byPassword.status).toBe(403);
    expect(byPassword.body.error.reason).toBe('impossible_travel');
    // Never a kick: the first session goes on as before.
    expect((await app.request('GET', '/api/accounts/security-events', { token: home.token })).status).toBe(
      200,
    );
    // Logging out is always allowed.
    expect((await app.request('POST', '/api/login/logout', { token: away.token })).status).toBe(204);
    expect((await app.request('GET', '/api/sessions/current', { token: away.token })).status).toBe(401);
  });

  it('"yes" on the mailed link lets the held session act, and the link works once', async () => {
    const { user, away } = await usThenGermany();
    const mail = app
      .mails()
      .filter((m) => m.to === user.email && m.action.type === 'login-confirmation')
      .at(-1);
    expect(mail?.text).toContain('Berlin');
    expect(mail?.text).toContain('DE');
    expect(mail?.text).toContain('Mountain View, US');
    const token = app.tokenFromMail(user.email, 'login-confirmation');
    const yes = await app.request('POST', '/api/accounts/login-confirmation', {
      body: { token, answer: 'yes' },
      headers: client(US),
    });
    expect(yes.status, yes.text).toBe(200);
    expect(yes.body).toEqual({ status: 'confirmed', sessionId: away.sessionId, passwordResetMailed: false });
    expect((await app.request('GET', '/api/accounts/security-events', { token: away.token })).status).toBe(
      200,
    );
    const again = await app.request('POST', '/api/accounts/login-confirmation', {
      body: { token, answer: 'no' },
      headers: client(US),
    });
    expect(again.status).toBe(400);
    expect((await app.request('GET', '/api/sessions/current', { token: away.token })).status).toBe(200);
  });

  it('"no" on the mailed link ends the held session and mails a password reset', async () => {
    const { user, home, away } = await usThenGermany();
    const no = await app.request('POST', '/api/accounts/login-confirmation', {
      body: { token: app.tokenFromMail(user.email, 'login-confirmation'), answer: 'no' },
      headers: client(US),
    });
    expect(no.status, no.text).toBe(200);
    expect(no.body).toEqual({ status: 'denied', sessionId: away.sessionId, passwordResetMailed: true });
    expect((await app.request('GET', '/api/sessions/current', { token: away.token })).status).toBe(401);
    expect((await app.request('GET', '/api/sessions/current', { token: home.token })).status).toBe(200);
    await app.settle();
    expect(app.tokenFromMail(user.email, 'password-reset')).toMatch(/.+/);
    const types = (await securityEvents(home.token)).map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['login_denied', 'session_revoked', 'impossible_travel']));
    // The denied sign-in is not where the user was: the next US sign-in is no travel.
    clock.advance(5 * MINUTE_MS);
    const back = await loginFrom(user, US);
    expect(back.body.session.stepUpReason).toBeNull();
  });

  it('an unknown, malformed or expired link changes nothing', async () => {
    const { user, away } = await usThenGermany();
    const token = app.tokenFromMail(user.email, 'login-confirmation');
    const forged = await app.request('POST', '/api/accounts/login-confirmation', {
      body: { token: `${token.slice(0, -2)}xx`, answer: 'yes' },
      headers: client(US),
    });
    expect(forged.status).toBe(400);
    const badAnswer = await app.request('POST', '/api/accounts/login-confirmation', {
      body: { token, answer: 'maybe' },
      headers: client(US),
    });
    expect(badAnswer.status).toBe(400);
    clock.advance(16 * MINUTE_MS);
    const late = await app.request('POST', '/api/accounts/login-confirmation', {
      body: { token, answer: 'yes' },
      headers: client(US),
    });
    expect(late.status).toBe(400);
    const refused = await app.request('GET', '/api/accounts/security-events', { token: away.token });
    expect(refused.body.error).toMatchObject({ code: 'STEP_UP_REQUIRED', reason: 'impossible_travel' });
  });

  it('a user with MFA lifts the hold by stepping up with a code, and gets no confirmation mail', async () => {
    const user = await newUser(app, 'mfa-traveller');
    const { secret } = await enableMfa(app, clock, user);
    const first = await passwordStep(app, user, client(US));
    expect(first.status).toBe(401);
    const home = await mfaStep(app, first.body.error.mfaToken, await codeAt(secret, clock.now()), client(US));
    expect(home.status, home.text).toBe(200);
    clock.advance(10 * MINUTE_MS);
    const second = await passwordStep(app, user, client(DE));
    const away = await mfaStep(
      app,
      second.body.error.mfaToken,
      await codeAt(secret, clock.now()),
      client(DE),
    );
    expect(away.status, away.text).toBe(200);
    expect(away.body.session.stepUpReason).toBe('impossible_travel');
    const held = await app.request('GET', '/api/sessions/current', { token: away.body.token });
    expect(held.body.hold).toEqual({ reason: 'impossible_travel', methods: ['code'] });
    await app.settle();
    expect(app.mails().filter((m) => m.to === user.email && m.action.type === 'login-confirmation')).toEqual(
      [],
    );
    expect(
      (await app.request('GET', '/api/accounts/security-events', { token: away.body.token })).status,
    ).toBe(403);
    clock.advance(30_000);
    const stepped = await stepUpWithCode(app, away.body.token, await codeAt(secret, clock.now()));
    expect(stepped.status, stepped.text).toBe(200);
    expect(stepped.body.session.stepUpReason).toBeNull();
    expect(
      (await app.request('GET', '/api/accounts/security-events', { token: stepped.body.token })).status,
    ).toBe(200);
  });
});

describe('security events', () => {
  it('each event can be acknowledged by its owner only', async () => {
    const { home } = await usThenGermany();
    const event = (await securityEvents(home.token)).find((e) => e.type === 'country_changed');
    const ack = await app.request('POST', `/api/accounts/security-events/${event?.id}/acknowledge`, {
      token: home.token,
    });
    expect(ack.status).toBe(204);
    const after = (await securityEvents(home.token)).find((e) => e.id === event?.id);
    expect(after?.acknowledged).toBe(true);

    const stranger = await newUser(app, 'stranger');
    for (const id of [event?.id, 'not-a-uuid', '00000000-0000-4000-8000-000000000000']) {
      const refused = await app.request('POST', `/api/accounts/security-events/${id}/acknowledge`, {
        token: stranger.token,
      });
      expect(refused.status, String(id)).toBe(404);
    }
  });

  it("the stream delivers a new device's sign-in to the user's other session within a second", async () => {
    const user = await newUser(app, 'watcher');
    const response = await fetch(`${app.url}/api/accounts/security-events/stream`, {
      headers: { authorization: `Bearer ${user.token}` },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    expect(decoder.decode((await reader.read()).value)).toContain('event: ready');

    const started = performance.now();
    const signedIn = await loginFrom(user, JP, 'new-laptop/1.0');
    let received = '';
    while (!received.includes('"type":"new_device"')) {
      const chunk = await reader.read();
      if (chunk.done) break;
      received += decoder.decode(chunk.value);
    }
    const elapsedMs = performance.now() - started;
    await reader.cancel();
    expect(received).toContain('event: security-event');
    const line = received.split('\n').find((l) => l.includes('"type":"new_device"')) ?? '';
    expect(JSON.parse(line.replace(/^data: /, ''))).toMatchObject({
      type: 'new_device',
      country: 'JP',
      sessionId: signedIn.sessionId,
      userAgent: 'new-laptop/1.0',
    });
    expect(elapsedMs).toBeLessThan(1000);
  });
});

describe('the OpenAPI document', () => {
  it('documents the signal routes, the country filter and the hold reason from the route definitions', async () => {
    const doc = (await app.request('GET', '/api/openapi.json')).body;
    expect(doc.paths['/api/accounts/security-events'].get.responses['200']).toBeDefined();
    expect(doc.paths['/api/accounts/security-events/{id}/acknowledge'].post.responses['204']).toBeDefined();
    expect(doc.paths['/api/accounts/security-events/stream'].get).toBeDefined();
    expect(doc.paths['/api/accounts/login-confirmation'].post.requestBody).toBeDefined();
    const params = doc.paths['/api/orgs/{orgId}/sessions'].get.parameters.map(
      (p: { name: string }) => p.name,
    );
    expect(params).toContain('country');
    expect(doc.components.schemas.Error.properties.error.properties.reason.enum).toContain(
      'impossible_travel',
    );
  });
});

describe('the org admin session view', () => {
  it('filters sessions by the country they signed in from', async () => {
    const owner = await newUser(app, 'owner');
    const org = await createOrg(app, owner);
    const member = await newUser(app, 'member');
    await grantMembership(app, org.id, member.userId, 'member');
    const tokyo = await loginFrom(member, JP);
    // The org's view holds the sessions that acted in the org: this one reads its members once.
    const acted = await app.request('GET', `/api/orgs/${org.id}/members`, {
      token: tokyo.token,
      headers: client(JP),
    });
    expect(acted.status, acted.text).toBe(200);
    const list = (country: string) =>
      app.request('GET', `/api/orgs/${org.id}/sessions?country=${country}`, { token: owner.token });
    const jp = await list('jp');
    expect(jp.status, jp.text).toBe(200);
    expect(jp.body.sessions.map((s: { id: string }) => s.id)).toEqual([tokyo.sessionId]);
    expect(jp.body.sessions[0]).toMatchObject({ country: 'JP' });
    expect((await list('US')).body.sessions).toEqual([]);
    expect((await list('USA')).status).toBe(400);
  });
});
