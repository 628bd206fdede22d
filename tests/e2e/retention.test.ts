import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueToken } from '../../shared/accounts/one-time-tokens.js';
import { makeEnvelope } from '../../shared/bus/envelope.js';
import { DAY_MS, FakeClock, MINUTE_MS } from '../../shared/time/clock.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import {
  createOrg,
  insertInvitation,
  insertSession,
  insertUser,
  newUser,
  orgTestEnv,
} from '../helpers/orgs.js';

const clock = new FakeClock('2026-09-01T12:00:00Z');
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ clock, env: orgTestEnv });
}, 180_000);
afterAll(() => app?.stop());

const ago = (ms: number) => new Date(clock.now().getTime() - ms);

async function sweep() {
  const p = app.runtime.platform;
  await p.publisher.publish('maintenance-sweep', makeEnvelope('maintenance-sweep', {}, clock.now()));
  await p.localBus?.idle();
}

describe('the maintenance sweep keeps data only as long as configured', () => {
  it('deletes sessions ended more than 90 days ago (revoked, expired or idle) and keeps the rest', async () => {
    const db = app.runtime.platform.db;
    const { userId } = await insertUser(app, 'retained');
    const ids = {
      revokedLongAgo: (await insertSession(app, userId)).id,
      revokedRecently: (await insertSession(app, userId)).id,
      expiredLongAgo: (await insertSession(app, userId)).id,
      idleLongAgo: (await insertSession(app, userId)).id,
      live: (await insertSession(app, userId)).id,
    };
    const set = (id: string, values: Record<string, unknown>) =>
      db.updateTable('sessions').set(values).where('id', '=', id).execute();
    await set(ids.revokedLongAgo, { revoked_at: ago(91 * DAY_MS), revoked_reason: 'logout' });
    await set(ids.revokedRecently, { revoked_at: ago(89 * DAY_MS), revoked_reason: 'logout' });
    await set(ids.expiredLongAgo, {
      created_at: ago(120 * DAY_MS),
      expires_at: ago(91 * DAY_MS),
      last_seen_at: ago(92 * DAY_MS),
    });
    await set(ids.idleLongAgo, { last_seen_at: ago(92 * DAY_MS), created_at: ago(92 * DAY_MS) });

    await sweep();
    const left = (await db.selectFrom('sessions').select('id').where('user_id', '=', userId).execute()).map(
      (r) => r.id,
    );
    expect(left.sort()).toEqual([ids.revokedRecently, ids.live].sort());
  });

  it('deletes devices forgotten, tokens and MFA challenges done, and invitations settled, past their days', async () => {
    const db = app.runtime.platform.db;
    const owner = await newUser(app, 'retention-owner');
    const org = await createOrg(app, owner);
    const { userId } = await insertUser(app, 'devices');
    const device = (fingerprint: string, deletedAt: Date | null) =>
      db
        .insertInto('known_devices')
        .values({
          id: randomUUID(),
          user_id: userId,
          fingerprint,
          user_agent: 'test',
          trusted: false,
          first_seen_at: ago(200 * DAY_MS),
          last_seen_at: ago(200 * DAY_MS),
          deleted_at: deletedAt,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
    const oldDevice = await device('a'.repeat(32), ago(91 * DAY_MS));
    const recentDevice = await device('b'.repeat(32), ago(80 * DAY_MS));
    const liveDevice = await device('c'.repeat(32), null);

    await issueToken(db, 'password-reset', ago(40 * DAY_MS), { userId });
    await issueToken(db, 'password-reset', clock.now(), { userId });

    const challenge = (expiresAt: Date) =>
      db
        .insertInto('mfa_challenges')
        .values({
          token_hash: Buffer.from(randomUUID()),
          user_id: userId,
          client_fingerprint: 'd'.repeat(32),
          expires_at: expiresAt,
          used_at: null,
        })
        .execute();
    await challenge(ago(31 * DAY_MS));
    await challenge(new Date(clock.now().getTime() + 5 * MINUTE_MS));

    const settled = await insertInvitation(app, org.id);
    const recent = await insertInvitation(app, org.id);
    const pending = await insertInvitation(app, org.id);
    await db
      .updateTable('invitations')
      .set({ revoked_at: ago(31 * DAY_MS), revoked_reason: 'withdrawn' })
      .where('id', '=', settled.id)
      .execute();
    await db
      .updateTable('invitations')
      .set({ revoked_at: ago(29 * DAY_MS), revoked_reason: 'withdrawn' })
      .where('id', '=', recent.id)
      .execute();

    await sweep();
    const devices = (
      await db.selectFrom('known_devices').select('id').where('user_id', '=', userId).execute()
    ).map((r) => r.id);
    expect(devices.sort()).toEqual([recentDevice.id, liveDevice.id].sort());
    expect(devices).not.toContain(oldDevice.id);
    const tokens = await db
      .selectFrom('one_time_tokens')
      .select('expires_at')
      .where('user_id', '=', userId)
      .execute();
    expect(tokens).toHaveLength(1);
    expect(tokens[0]?.expires_at.getTime()).toBeGreaterThan(clock.now().getTime());
    expect(
      await db.selectFrom('mfa_challenges').select('user_id').where('user_id', '=', userId).execute(),
    ).toHaveLength(1);
    const invitations = (
      await db.selectFrom('invitations').select('id').where('org_id', '=', org.id).execute()
    ).map((r) => r.id);
    expect(invitations.sort()).toEqual([recent.id, pending.id].sort());
  });
});
