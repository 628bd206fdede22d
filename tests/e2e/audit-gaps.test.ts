import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../shared/time/clock.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { chainRows } from '../helpers/audit.js';
import { codeAt, enableMfa, stepUpWithCode } from '../helpers/mfa.js';
import { createOrg, grantMembership, newUser, nextIp, orgAudit, orgTestEnv } from '../helpers/orgs.js';
import { ndjson, postFrames } from '../helpers/recordings.js';

const clock = new FakeClock('2026-06-01T09:00:00Z');
let app: TestApp;

beforeAll(async () => {
  app = await startTestApp({ clock, env: orgTestEnv });
}, 120_000);
afterAll(() => app?.stop());

const userChain = (userId: string) => chainRows(app.runtime.platform.db, `user:${userId}`);

describe('account changes that were missing from the audit log', () => {
  it('signing up writes account.created and verifying the email writes email.verified, once', async () => {
    const email = `gaps-${Date.now()}@example.com`;
    const ip = nextIp();
    const signup = await app.request('POST', '/api/accounts/signup', {
      body: { email, password: 'a long enough passphrase 42', name: 'Gaps' },
      headers: { 'x-forwarded-for': ip },
    });
    expect(signup.status).toBe(202);
    await app.settle();
    const token = app.tokenFromMail(email, 'verify-email');
    const user = await app.runtime.platform.db
      .selectFrom('users')
      .select('id')
      .where('email_normalized', '=', email)
      .executeTakeFirstOrThrow();
    expect((await userChain(user.id)).map((r) => [r.action, r.ip])).toEqual([['account.created', ip]]);

    const verify = await app.request('POST', '/api/accounts/verify-email', {
      body: { token },
      headers: { 'x-forwarded-for': ip },
    });
    expect(verify.status).toBe(200);
    const rows = await userChain(user.id);
    expect(rows.map((r) => r.action)).toEqual(['account.created', 'email.verified']);
    expect(rows[1]).toMatchObject({ actor_type: 'user', actor_id: user.id, ip });

    // A replayed link is refused and writes nothing.
    const again = await app.request('POST', '/api/accounts/verify-email', { body: { token } });
    expect(again.status).toBe(400);
    expect(await userChain(user.id)).toHaveLength(2);
  });

  it('regenerating backup codes writes mfa.backup_codes_regenerated with the new codes counted, never the codes', async () => {
    const user = await newUser(app, 'regen-audit');
    const { secret } = await enableMfa(app, clock, user);
    const stepped = await stepUpWithCode(app, user.token, await codeAt(secret, clock.now()));
    expect(stepped.status).toBe(200);
    const fresh = await app.request('POST', '/api/mfa/backup-codes', { token: stepped.body.token });
    expect(fresh.status).toBe(200);

    const rows = (await userChain(user.userId)).filter((r) => r.action === 'mfa.backup_codes_regenerated');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ actor_id: user.userId, metadata: { count: 10 } });
    const stored = JSON.stringify(rows[0]?.metadata);
    for (const code of fresh.body.backupCodes as string[]) expect(stored).not.toContain(code);
  });

  it('logging out writes auth_session.revoked with reason logout for the session that ended', async () => {
    const user = await newUser(app, 'logout-audit');
    const current = await app.request('GET', '/api/sessions/current', { token: user.token });
    const sessionId: string = current.body.session.id;
    const out = await app.request('POST', '/api/login/logout', { token: user.token });
    expect(out.status).toBe(204);

    const rows = (await userChain(user.userId)).filter((r) => r.action === 'auth_session.revoked');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      actor_type: 'user',
      actor_id: user.userId,
      target_type: 'session',
      target_id: sessionId,
      metadata: { reason: 'logout' },
    });
  });
});

describe('playback links', () => {
  it('issuing one writes recording.playback_issued in the org chain, naming who got it and until when', async () => {
    const owner = await newUser(app, 'play-owner');
    const viewer = await newUser(app, 'play-viewer');
    const orgId = (await createOrg(app, owner)).id;
    await grantMembership(app, orgId, viewer.userId, 'viewer');
    const started = await app.request('POST', `/api/orgs/${orgId}/recordings`, {
      token: owner.token,
      body: { title: 'watched', width: 80, height: 24 },
    });
    const id: string = started.body.id;
    expect((await postFrames(app, owner.token, id, 0, ndjson([[0.1, 'o', 'hi\r\n']]))).status).toBe(202);
    expect((await app.request('POST', `/api/recordings/${id}/stop`, { token: owner.token })).status).toBe(
      202,
    );
    await app.settle();

    const ip = nextIp();
    const playback = await app.request('GET', `/api/recordings/${id}/playback`, {
      token: viewer.token,
      headers: { 'x-forwarded-for': ip },
    });
    expect(playback.status).toBe(200);
    const issued = (await orgAudit(app, orgId)).filter((r) => r.action === 'recording.playback_issued');
    expect(issued).toHaveLength(1);
    expect(issued[0]).toMatchObject({
      actor_type: 'user',
      actor_id: viewer.userId,
      target_type: 'recording',
      target_id: id,
      ip,
      metadata: { expiresAt: playback.body.expiresAt },
    });
    // The link is a bearer secret: the row says that one was issued, never what it was.
    expect(JSON.stringify(issued[0])).not.toContain(new URL(playback.body.url).search);
  });
});
