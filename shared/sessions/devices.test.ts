import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase, testEngine } from '../../tests/helpers/db.js';
import type { DbHandle } from '../db/connect.js';
import { DeviceStore, DeviceTracker } from './devices.js';

let handle: DbHandle;
let tracker: DeviceTracker;
let devices: DeviceStore;
const now = new Date('2026-04-01T12:00:00Z');
const ring = { currentKeyId: 'k', keys: new Map([['k', randomBytes(32)]]) };

async function newUser(): Promise<{ id: string; email: string }> {
  const email = `d-${randomBytes(4).toString('hex')}@example.com`;
  const row = await handle.db
    .insertInto('users')
    .values({ email, email_normalized: email, name: 'D', email_verified_at: now, disabled_at: null })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { id: row.id, email };
}

async function count(table: 'known_devices' | 'outbox', userId?: string): Promise<number> {
  let query = handle.db.selectFrom(table).select(sql<number>`count(*)::int`.as('n'));
  if (table === 'known_devices' && userId) query = query.where('user_id' as never, '=', userId as never);
  return (await query.executeTakeFirstOrThrow()).n;
}

beforeAll(async () => {
  handle = await openTestDatabase();
  devices = new DeviceStore(handle.db);
  tracker = new DeviceTracker({ devices, mailKeys: async () => ring, appUrl: 'https://app.example' });
});
afterAll(() => handle?.close());

describe(`device tracking on ${testEngine}`, () => {
  it('concurrent first logins from one device make one row, one new-device audit event and one mail', async () => {
    const user = await newUser();
    const outboxBefore = await count('outbox');
    const meta = { ip: '203.0.113.50', userAgent: 'Racer/2', now };
    const ids = await Promise.all(
      Array.from({ length: 8 }, () => handle.db.transaction().execute((tx) => tracker.track(tx, user, meta))),
    );
    expect(new Set(ids).size).toBe(1);
    expect(await count('known_devices', user.id)).toBe(1);
    expect(await count('outbox')).toBe(outboxBefore + 1);
    const events = await handle.db
      .selectFrom('audit_logs')
      .select('action')
      .where('chain', '=', `user:${user.id}`)
      .execute();
    expect(events.map((e) => e.action)).toEqual(['login.new_device']);
  });

  it('keeps last_seen_at moving forward and comes back untrusted and new after being forgotten', async () => {
    const user = await newUser();
    const first = await handle.db
      .transaction()
      .execute((tx) =>
        devices.seen(tx, { userId: user.id, fingerprint: 'a'.repeat(32), userAgent: 'x', now }),
      );
    expect(first.isNew).toBe(true);
    const later = new Date(now.getTime() + 60_000);
    const again = await handle.db
      .transaction()
      .execute((tx) =>
        devices.seen(tx, { userId: user.id, fingerprint: 'a'.repeat(32), userAgent: 'x', now: later }),
      );
    expect(again).toEqual({ id: first.id, isNew: false });
    await handle.db.transaction().execute(async (tx) => {
      await devices.trust(tx, first.id);
      await devices.softDelete(tx, first.id, later);
    });
    expect(await devices.list(user.id)).toEqual([]);
    const revived = await handle.db
      .transaction()
      .execute((tx) =>
        devices.seen(tx, { userId: user.id, fingerprint: 'a'.repeat(32), userAgent: 'x', now: later }),
      );
    expect(revived).toEqual({ id: first.id, isNew: true });
    const [row] = await devices.list(user.id);
    expect(row).toMatchObject({
      trusted: false,
      deleted_at: null,
      last_seen_at: later,
      first_seen_at: later,
    });
  });
});
