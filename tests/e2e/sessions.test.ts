import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomToken } from '../../shared/crypto/tokens.js';
import { core } from '../../shared/runtime/core.js';
import {
  DEFAULT_IDLE_TIMEOUT_MINUTES,
  revocationStreamKey,
  sessionTokenHash,
} from '../../shared/sessions/model.js';
import { FakeClock, MINUTE_MS, SECOND_MS } from '../../shared/time/clock.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { auditCount, client, loginFrom, revocationEventsHandled, verifiedUser } from '../helpers/sessions.js';

const clock = new FakeClock('2026-06-01T08:00:00Z');
let app: TestApp;
let ipCounter = 0;
/** A fresh client IP per call, so the per-IP login limit never couples tests. */
const freshIp = () => `203.0.113.${++ipCounter}`;

beforeAll(async () => {
  app = await startTestApp({ clock, env: { TRUSTED_PROXY_HOPS: '1' } });
});
afterAll(async () => {
  await app?.stop();
});

const newDeviceMails = (email: string) =>
  app.mails().filter((m) => m.to === email && m.action.type === 'new-device').length;

describe('listing and revoking sessions', () => {
  it('lists every live session of the user with the current one marked, and nobody else’s', async () => {
    const user = await verifiedUser(app);
    const laptop = await loginFrom(app, user, client(freshIp(), 'Laptop/1'));
    const phone = await loginFrom(app, user, client(freshIp(), 'Phone/1'));
    const stranger = await loginFrom(app, await verifiedUser(app), client(freshIp()));

    const listed = await app.request('GET', '/api/sessions', { token: laptop.token });
    expect(listed.status).toBe(200);
    const byId = new Map(listed.body.sessions.map((s: { id: string }) => [s.id, s]));
    expect([...byId.keys()].sort()).toEqual([laptop.sessionId, phone.sessionId].sort());
    expect(byId.get(laptop.sessionId)).toMatchObject({ current: true, userAgent: 'Laptop/1' });
    expect(byId.get(phone.sessionId)).toMatchObject({ current: false, userAgent: 'Phone/1' });
    expect(byId.has(stranger.sessionId)).toBe(false);
    for (const field of ['createdAt', 'lastSeenAt', 'expiresAt', 'ip', 'country', 'deviceId'])
      expect(listed.body.sessions[0]).toHaveProperty(field);
  });

  it('revoking another session makes its token fail on the very next request; again answers 204 with no second event', async () => {
    const user = await verifiedUser(app);
    const a = await loginFrom(app, user, client(freshIp(), 'A/1'));
    const b = await loginFrom(app, user, client(freshIp(), 'B/1'));
    const eventsBefore = await revocationEventsHandled(app);

    const revoke = await app.request('DELETE', `/api/sessions/${b.sessionId}`, { token: a.token });
    expect(revoke.status).toBe(204);
    const after = await app.request('GET', '/api/sessions/current', { token: b.token });
    expect(after.status).toBe(401);
    expect(after.body.error.code).toBe('UNAUTHENTICATED');
    expect(await revocationEventsHandled(app)).toBe(eventsBefore + 1);

    const again = await app.request('DELETE', `/api/sessions/${b.sessionId}`, { token: a.token });
    expect(again.status).toBe(204);
    expect(await revocationEventsHandled(app)).toBe(eventsBefore + 1);
    expect(await auditCount(app, a.userId, 'auth_session.revoked')).toBe(1);

    const feedEntry = await (await core()).revocationFeed.lookup(
      revocationStreamKey(sessionTokenHash(b.token)),
    );
    expect(feedEntry?.reason).toBe('revoked_by_user');
    expect((await app.request('GET', '/api/sessions/current', { token: a.token })).status).toBe(200);
  });

  it('another user’s session id, an unknown id and a malformed id all answer 404 and change nothing', async () => {
    const mine = await loginFrom(app, await verifiedUser(app), client(freshIp()));
    const theirs = await loginFrom(app, await verifiedUser(app), client(freshIp()));
    for (const id of [theirs.sessionId, '00000000-0000-4000-8000-000000000000', 'not-a-uuid']) {
      const response = await app.request('DELETE', `/api/sessions/${id}`, { token: mine.token });
      expect(response.status).toBe(404);
      expect(response.body.error.code).toBe('NOT_FOUND');
    }
    expect((await app.request('GET', '/api/sessions/current', { token: theirs.token })).status).toBe(200);
  });

  it('revoke-others ends every other session and keeps this one; revoke-all ends this one too', async () => {
    const user = await verifiedUser(app);
    const sessions = [];
    for (let i = 0; i < 3; i++) sessions.push(await loginFrom(app, user, client(freshIp(), `UA/${i}`)));
    const [first, second, third] = sessions as [
      (typeof sessions)[0],
      (typeof sessions)[0],
      (typeof sessions)[0],
    ];

    const others = await app.request('POST', '/api/sessions/revoke-others', { token: first.token });
    expect(others.status).toBe(200);
    expect(others.body).toEqual({ revoked: 2 });
    expect((await app.request('GET', '/api/sessions/current', { token: second.token })).status).toBe(401);
    expect((await app.request('GET', '/api/sessions/current', { token: third.token })).status).toBe(401);
    expect((await app.request('GET', '/api/sessions/current', { token: first.token })).status).toBe(200);

    const fourth = await loginFrom(app, user, client(freshIp()));
    const all = await app.request('POST', '/api/sessions/revoke-all', { token: first.token });
    expect(all.status).toBe(200);
    expect(all.body).toEqual({ revoked: 2 });
    expect(all.headers.get('set-cookie')).toContain('Max-Age=0');
    expect((await app.request('GET', '/api/sessions/current', { token: first.token })).status).toBe(401);
    expect((await app.request('GET', '/api/sessions/current', { token: fourth.token })).status).toBe(401);
    expect(await auditCount(app, first.userId, 'auth_session.revoked')).toBe(4);
  });

  it('a 401 says how a real session ended (revoked, or expired by the idle timeout) and nothing for a token we never issued', async () => {
    const user = await verifiedUser(app);
    const a = await loginFrom(app, user, client(freshIp(), 'A/1'));
    const b = await loginFrom(app, user, client(freshIp(), 'B/1'));
    await app.request('DELETE', `/api/sessions/${b.sessionId}`, { token: a.token });
    const revoked = await app.request('GET', '/api/sessions', { token: b.token });
    expect(revoked.status).toBe(401);
    expect(revoked.body.error).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'revoked' });

    clock.advance(DEFAULT_IDLE_TIMEOUT_MINUTES * MINUTE_MS + MINUTE_MS);
    const idle = await app.request('GET', '/api/sessions', { token: a.token });
    expect(idle.status).toBe(401);
    expect(idle.body.error).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'expired' });

    // A token-shaped guess, and a real token's hash presented as one: no reason, nothing learned.
    for (const token of [randomToken(), sessionTokenHash(a.token).toString('base64url')]) {
      const unknown = await app.request('GET', '/api/sessions', { token });
      expect(unknown.status).toBe(401);
      expect(unknown.body.error).not.toHaveProperty('reason');
    }
  });

  it('presenting the stored hash (or its hex) as a token answers 401', async () => {
    const session = await loginFrom(app, await verifiedUser(app), client(freshIp()));
    const stored = sessionTokenHash(session.token);
    for (const forged of [stored.toString('base64url'), stored.toString('hex')]) {
      const response = await app.request('GET', '/api/sessions/current', { token: forged });
      expect(response.status).toBe(401);
      expect(response.body.error.code).toBe('UNAUTHENTICATED');
    }
    const listing = await app.request('GET', '/api/sessions', { token: stored.toString('base64url') });
    expect(listing.status).toBe(401);
  });

  it('every sessions route refuses a request without a session', async () => {
    for (const [method, path] of [
      ['GET', '/api/sessions'],
      ['DELETE', '/api/sessions/00000000-0000-4000-8000-000000000000'],
      ['POST', '/api/sessions/revoke-others'],
      ['POST', '/api/sessions/revoke-all'],
      ['GET', '/api/sessions/devices'],
      ['GET', '/api/sessions/stream'],
    ] as const) {
      const response = await app.request(method, path);
      expect(response.status).toBe(401);
      expect(response.body.error.code).toBe('UNAUTHENTICATED');
    }
  });
});

describe('devices', () => {
  it('the first login from a device sends one new-device mail and audit event; the next login from it sends none', async () => {
    const user = await verifiedUser(app);
    const ip = freshIp();
    const first = await loginFrom(app, user, client(ip, 'Desk/1'));
    await loginFrom(app, user, client(ip, 'Desk/1'));
    await app.settle();
    expect(newDeviceMails(user.email)).toBe(1);
    expect(await auditCount(app, first.userId, 'login.new_device')).toBe(1);
    await loginFrom(app, user, client(ip, 'Desk/2'));
    await app.settle();
    expect(newDeviceMails(user.email)).toBe(2);

    const devices = await app.request('GET', '/api/sessions/devices', { token: first.token });
    expect(devices.status).toBe(200);
    expect(devices.body.devices).toHaveLength(2);
    expect(devices.body.devices[0]).toMatchObject({
      trusted: false,
      fingerprint: expect.stringMatching(/^[0-9a-f]{32}$/),
    });
    const current = await app.request('GET', '/api/sessions/current', { token: first.token });
    expect(devices.body.devices.map((d: { id: string }) => d.id)).toContain(current.body.session.deviceId);

    clock.advance(2 * MINUTE_MS);
    await app.request('GET', '/api/sessions/current', { token: first.token });
    const touched = await app.request('GET', '/api/sessions/devices', { token: first.token });
    const used = touched.body.devices.find((d: { id: string }) => d.id === current.body.session.deviceId);
    expect(used.lastSeenAt).toBe(clock.now().toISOString());
  });

  it('concurrent first logins from one device make one device row, one event and one mail', async () => {
    const user = await verifiedUser(app);
    const headers = client(freshIp(), 'Racer/1');
    const logins = await Promise.all(Array.from({ length: 5 }, () => loginFrom(app, user, headers)));
    await app.settle();
    expect(newDeviceMails(user.email)).toBe(1);
    expect(await auditCount(app, logins[0]!.userId, 'login.new_device')).toBe(1);
    const devices = await app.request('GET', '/api/sessions/devices', { token: logins[0]!.token });
    expect(devices.body.devices).toHaveLength(1);
    const listed = await app.request('GET', '/api/sessions', { token: logins[0]!.token });
    const deviceIds = new Set(listed.body.sessions.map((s: { deviceId: string }) => s.deviceId));
    expect([...deviceIds]).toEqual([devices.body.devices[0].id]);
  });

  it('trust is opt-in and per user; forgetting a device ends its sessions and makes it new again', async () => {
    const user = await verifiedUser(app);
    const home = await loginFrom(app, user, client(freshIp(), 'Home/1'));
    const cafeIp = freshIp();
    const cafe = await loginFrom(app, user, client(cafeIp, 'Cafe/1'));
    const cafeDevice = (await app.request('GET', '/api/sessions/current', { token: cafe.token })).body.session
      .deviceId as string;
    const stranger = await loginFrom(app, await verifiedUser(app), client(freshIp()));

    const foreign = await app.request('POST', `/api/sessions/devices/${cafeDevice}/trust`, {
      token: stranger.token,
    });
    expect(foreign.status).toBe(404);
    expect(foreign.body.error.code).toBe('NOT_FOUND');
    const foreignForget = await app.request('DELETE', `/api/sessions/devices/${cafeDevice}`, {
      token: stranger.token,
    });
    expect(foreignForget.status).toBe(404);

    const trusted = await app.request('POST', `/api/sessions/devices/${cafeDevice}/trust`, {
      token: home.token,
    });
    expect(trusted.status).toBe(200);
    expect(trusted.body.device).toMatchObject({ id: cafeDevice, trusted: true });
    expect(await auditCount(app, home.userId, 'device.trusted')).toBe(1);

    const forget = await app.request('DELETE', `/api/sessions/devices/${cafeDevice}`, { token: home.token });
    expect(forget.status).toBe(204);
    expect((await app.request('GET', '/api/sessions/current', { token: cafe.token })).status).toBe(401);
    expect((await app.request('GET', '/api/sessions/current', { token: home.token })).status).toBe(200);
    const devices = await app.request('GET', '/api/sessions/devices', { token: home.token });
    expect(devices.body.devices.map((d: { id: string }) => d.id)).not.toContain(cafeDevice);
    expect(await auditCount(app, home.userId, 'device.deleted')).toBe(1);
    expect(
      (await app.request('DELETE', `/api/sessions/devices/${cafeDevice}`, { token: home.token })).status,
    ).toBe(204);
    expect(await auditCount(app, home.userId, 'device.deleted')).toBe(1);

    await app.settle();
    const mailsBefore = newDeviceMails(user.email);
    await loginFrom(app, user, client(cafeIp, 'Cafe/1'));
    await app.settle();
    expect(newDeviceMails(user.email)).toBe(mailsBefore + 1);
    const back = await app.request('GET', '/api/sessions/devices', { token: home.token });
    expect(back.body.devices.find((d: { id: string }) => d.id === cafeDevice)).toMatchObject({
      trusted: false,
    });
  });
});

describe('step-up', () => {
  it('issues a fresh token with 10 minutes of sudo: 9:59 works, 10:01 does not, and other sessions do not inherit it', async () => {
    const user = await verifiedUser(app);
    const ip = freshIp();
    const mine = await loginFrom(app, user, client(ip, 'Sudo/1'));
    const other = await loginFrom(app, user, client(freshIp(), 'Other/1'));
    const oldDevice = (await app.request('GET', '/api/sessions/current', { token: mine.token })).body.session
      .deviceId;

    // Changing the password needs sudo: a wrong current password (401) proves the sudo gate passed.
    const sudoProbe = (token: string) =>
      app.request('POST', '/api/accounts/password', {
        token,
        body: { currentPassword: 'not the password at all', newPassword: 'another long passphrase 77' },
        headers: client(ip, 'Sudo/1'),
      });
    expect((await sudoProbe(mine.token)).body.error.code).toBe('STEP_UP_REQUIRED');

    const start = clock.now();
    const stepped = await app.request('POST', '/api/sessions/step-up', {
      token: mine.token,
      body: { password: user.password },
      headers: client(ip, 'Sudo/1'),
    });
    expect(stepped.status).toBe(200);
    expect(stepped.body.sudoUntil).toBe(new Date(start.getTime() + 10 * MINUTE_MS).toISOString());
    expect(stepped.body.token).not.toBe(mine.token);
    expect(stepped.body.session.deviceId).toBe(oldDevice);
    expect(stepped.headers.get('set-cookie')).toContain(`__Host-sf_session=${stepped.body.token};`);
    expect(await auditCount(app, mine.userId, 'step_up.succeeded')).toBe(1);

    const oldToken = await app.request('GET', '/api/sessions/current', { token: mine.token });
    expect(oldToken.status).toBe(401);

    clock.advance(9 * MINUTE_MS + 59 * SECOND_MS);
    const inside = await sudoProbe(stepped.body.token);
    expect(inside.status).toBe(401);
    expect(inside.body.error.code).toBe('INVALID_CREDENTIALS');
    const otherSession = await sudoProbe(other.token);
    expect(otherSession.status).toBe(403);
    expect(otherSession.body.error.code).toBe('STEP_UP_REQUIRED');

    clock.advance(2 * SECOND_MS);
    const outside = await sudoProbe(stepped.body.token);
    expect(outside.status).toBe(403);
    expect(outside.body.error.code).toBe('STEP_UP_REQUIRED');
  });

  it('a wrong password is refused, audited, and throttled like login after 10 attempts from one IP', async () => {
    const user = await verifiedUser(app);
    const ip = freshIp();
    const session = await loginFrom(app, user, client(ip));
    const attempt = () =>
      app.request('POST', '/api/sessions/step-up', {
        token: session.token,
        body: { password: 'wrong password for sure' },
        headers: client(ip),
      });
    for (let i = 0; i < 9; i++) {
      const wrong = await attempt();
      expect(wrong.status).toBe(401);
      expect(wrong.body.error.code).toBe('INVALID_CREDENTIALS');
    }
    expect(await auditCount(app, session.userId, 'step_up.failed')).toBe(9);
    expect((await attempt()).status).toBe(401);
    const limited = await attempt();
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('RATE_LIMITED');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await auditCount(app, session.userId, 'step_up.failed')).toBe(10);

    const empty = await app.request('POST', '/api/sessions/step-up', { token: session.token, body: {} });
    expect(empty.status).toBe(400);
    expect(empty.body.error.code).toBe('VALIDATION_FAILED');
    clock.advance(16 * MINUTE_MS);
  });
});

describe('password change and reset end sessions (SECURITY.md "Sessions")', () => {
  it('a password change ends every other session and keeps the one that changed it', async () => {
    const user = await verifiedUser(app);
    const ip = freshIp();
    const mine = await loginFrom(app, user, client(ip));
    const other = await loginFrom(app, user, client(freshIp(), 'Other/2'));
    const stepped = await app.request('POST', '/api/sessions/step-up', {
      token: mine.token,
      body: { password: user.password },
      headers: client(ip),
    });
    const changed = await app.request('POST', '/api/accounts/password', {
      token: stepped.body.token,
      body: { currentPassword: user.password, newPassword: 'a brand new passphrase 2026' },
      headers: client(ip),
    });
    expect(changed.status).toBe(200);
    expect(changed.body).toEqual({ status: 'password_changed', sessionsRevoked: 1 });
    expect((await app.request('GET', '/api/sessions/current', { token: other.token })).status).toBe(401);
    expect((await app.request('GET', '/api/sessions/current', { token: stepped.body.token })).status).toBe(
      200,
    );
    const feed = (await core()).revocationFeed;
    await app.settle();
    expect((await feed.lookup(revocationStreamKey(sessionTokenHash(other.token))))?.reason).toBe(
      'password_changed',
    );
  });

  it('a password reset ends every session of the user', async () => {
    const user = await verifiedUser(app);
    const a = await loginFrom(app, user, client(freshIp()));
    const b = await loginFrom(app, user, client(freshIp(), 'B/2'));
    await app.request('POST', '/api/accounts/password-reset/request', { body: { email: user.email } });
    await app.settle();
    const reset = await app.request('POST', '/api/accounts/password-reset/confirm', {
      body: {
        token: app.tokenFromMail(user.email, 'password-reset'),
        newPassword: 'reset passphrase of 2026',
      },
    });
    expect(reset.status).toBe(200);
    expect(reset.body).toEqual({ status: 'password_reset', sessionsRevoked: 2 });
    for (const token of [a.token, b.token])
      expect((await app.request('GET', '/api/sessions/current', { token })).status).toBe(401);
  });
});

describe('live revocation stream (embedded mode)', () => {
  it('sends ready, then revoked, and closes when the session is revoked elsewhere', async () => {
    const user = await verifiedUser(app);
    const watcher = await loginFrom(app, user, client(freshIp(), 'Watcher/1'));
    const admin = await loginFrom(app, user, client(freshIp(), 'Admin/1'));
    const response = await fetch(`${app.url}/api/sessions/stream`, {
      headers: { authorization: `Bearer ${watcher.token}` },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let received = decoder.decode((await reader.read()).value);
    expect(received).toContain('event: ready');

    expect(
      (await app.request('DELETE', `/api/sessions/${watcher.sessionId}`, { token: admin.token })).status,
    ).toBe(204);
    await app.settle();
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) break;
      received += decoder.decode(chunk.value);
    }
    expect(received).toContain('event: revoked');
    expect(received).toContain('"reason":"revoked_by_user"');
  });
});

describe('login when the rate-limit store is down', () => {
  it('proceeds (fail open) and counts ratelimit_store_errors', async () => {
    const user = await verifiedUser(app);
    const c = await core();
    const before = c.platform.metrics.value('ratelimit_store_errors');
    const original = c.rateLimits.hit;
    c.rateLimits.hit = () => Promise.reject(new Error('store unreachable'));
    try {
      const login = await app.request('POST', '/api/login', {
        body: { email: user.email, password: user.password },
        headers: client(freshIp()),
      });
      expect(login.status).toBe(200);
    } finally {
      c.rateLimits.hit = original;
    }
    expect(c.platform.metrics.value('ratelimit_store_errors')).toBe(before + 1);
  });
});
