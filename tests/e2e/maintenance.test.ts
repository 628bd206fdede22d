import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeEnvelope } from '../../shared/bus/envelope.js';
import { schedules, subscriptions } from '../../shared/bus/topics.js';
import { DAY_MS, FakeClock, HOUR_MS, MINUTE_MS } from '../../shared/time/clock.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { insertOrg } from '../helpers/db.js';
import { insertUser } from '../helpers/orgs.js';
import '../../shared/sso/tables.js';

const clock = new FakeClock('2026-06-01T12:00:00Z');
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ clock });
});
afterAll(async () => {
  await app?.stop();
});

const ago = (ms: number) => new Date(clock.now().getTime() - ms);
const ahead = (ms: number) => new Date(clock.now().getTime() + ms);
const streamKey = () => randomUUID().replaceAll('-', '').repeat(2);

describe('the hourly maintenance sweep (revocations unit)', () => {
  it('is scheduled hourly and consumed by the revocations unit', () => {
    expect(schedules.find((s) => s.topic === 'maintenance-sweep')).toMatchObject({ everyMs: HOUR_MS });
    expect(subscriptions.filter((s) => s.topic === 'maintenance-sweep')).toEqual([
      { topic: 'maintenance-sweep', unit: 'revocations' },
    ]);
  });

  it('drops expired rate-limit windows, revocation-feed entries and event ids past redelivery, and nothing else', async () => {
    const db = app.runtime.platform.db;
    const [expiredKey, liveKey] = [`sweep-test:${randomUUID()}`, `sweep-test:${randomUUID()}`];
    await db
      .insertInto('rate_limits')
      .values([
        { key: expiredKey, hits: [ago(DAY_MS)], expires_at: ago(MINUTE_MS) },
        { key: liveKey, hits: [ago(MINUTE_MS)], expires_at: ahead(10 * MINUTE_MS) },
      ] as never)
      .execute();
    const [expiredStream, liveStream] = [streamKey(), streamKey()];
    await db
      .insertInto('revocation_feed')
      .values([
        {
          stream_key: expiredStream,
          revoked_at: ago(15 * DAY_MS),
          reason: 'logout',
          expires_at: ago(DAY_MS),
        },
        { stream_key: liveStream, revoked_at: ago(MINUTE_MS), reason: 'logout', expires_at: ahead(DAY_MS) },
      ] as never)
      .execute();
    const [oldEvent, recentEvent] = [randomUUID(), randomUUID()];
    await db
      .insertInto('processed_events')
      .values([
        { consumer: 'sweep-test', event_id: oldEvent, processed_at: ago(9 * DAY_MS) },
        { consumer: 'sweep-test', event_id: recentEvent, processed_at: ago(6 * DAY_MS) },
      ] as never)
      .execute();

    const p = app.runtime.platform;
    await p.publisher.publish('maintenance-sweep', makeEnvelope('maintenance-sweep', {}, clock.now()));
    await p.localBus?.idle();

    const keys = (
      await db.selectFrom('rate_limits').select('key').where('key', 'like', 'sweep-test:%').execute()
    ).map((r) => r.key);
    expect(keys).toEqual([liveKey]);
    const streams = (
      await db
        .selectFrom('revocation_feed')
        .select('stream_key')
        .where('stream_key', 'in', [expiredStream, liveStream])
        .execute()
    ).map((r) => r.stream_key);
    expect(streams).toEqual([liveStream]);
    const events = (
      await db
        .selectFrom('processed_events')
        .select('event_id')
        .where('consumer', '=', 'sweep-test')
        .execute()
    ).map((r) => r.event_id);
    expect(events).toEqual([recentEvent]);
    // The tick itself was recorded (and is kept): a redelivery of it is a no-op.
    const { rows } = await sql<{ n: number }>`
      select count(*)::int as n from processed_events where consumer = 'revocations'`.execute(db);
    expect(rows[0]?.n).toBeGreaterThan(0);
  });

  it('forgets SAML requests, assertion ids and SSO link confirmations once they expired, and only those', async () => {
    const db = app.runtime.platform.db;
    const orgId = await insertOrg(db, { slug: `sweep-sso-${randomUUID()}`, now: clock.now() });
    const user = await insertUser(app, 'sweep-sso');
    await db
      .insertInto('saml_requests')
      .values([
        { id: '_old', org_id: orgId, expires_at: ago(MINUTE_MS), used_at: null },
        { id: '_live', org_id: orgId, expires_at: ahead(MINUTE_MS), used_at: null },
      ])
      .execute();
    await db
      .insertInto('saml_assertions')
      .values([
        { org_id: orgId, assertion_id: '_oldA', expires_at: ago(MINUTE_MS) },
        { org_id: orgId, assertion_id: '_liveA', expires_at: ahead(MINUTE_MS) },
      ])
      .execute();
    const link = (hash: string, expiresAt: Date) => ({
      token_hash: hash,
      org_id: orgId,
      issuer: 'https://idp.test',
      subject: hash,
      user_id: user.userId,
      expires_at: expiresAt,
      used_at: null,
    });
    await db
      .insertInto('sso_link_confirmations')
      .values([link(`old-${orgId}`, ago(MINUTE_MS)), link(`live-${orgId}`, ahead(DAY_MS))])
      .execute();

    const p = app.runtime.platform;
    await p.publisher.publish('maintenance-sweep', makeEnvelope('maintenance-sweep', {}, clock.now()));
    await p.localBus?.idle();

    const ids = await db.selectFrom('saml_requests').select('id').where('org_id', '=', orgId).execute();
    expect(ids.map((r) => r.id)).toEqual(['_live']);
    const assertions = await db
      .selectFrom('saml_assertions')
      .select('assertion_id')
      .where('org_id', '=', orgId)
      .execute();
    expect(assertions.map((r) => r.assertion_id)).toEqual(['_liveA']);
    const links = await db
      .selectFrom('sso_link_confirmations')
      .select('token_hash')
      .where('org_id', '=', orgId)
      .execute();
    expect(links.map((r) => r.token_hash)).toEqual([`live-${orgId}`]);
  });
});
