import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { appendAudit } from '../audit/append.js';
import type { Tx } from '../bus/outbox.js';
import type { KeyRing } from '../crypto/seal.js';
import type { Db } from '../db/connect.js';
import { queueMail } from '../mail/queue.js';
import { renderMail } from '../mail/templates.js';
import type { Location } from '../signals/location.js';
import { placeName, signInContext } from '../signals/place.js';
import { deviceFingerprint } from './fingerprint.js';
import type { KnownDevicesTable } from './tables.js';
import './tables.js';

export type DeviceRow = KnownDevicesTable;

export interface SeenDevice {
  id: string;
  /** True for the one login that created the row (or brought a forgotten device back). */
  isNew: boolean;
}

/** known_devices persistence; every query is scoped to the owning user. */
export class DeviceStore {
  constructor(private readonly db: Db) {}

  /**
   * One atomic upsert: concurrent first logins from one device queue on the unique
   * (user_id, fingerprint) index, so exactly one of them sees `xmax = 0` (it inserted). A
   * forgotten device comes back untrusted, with a fresh first_seen_at, and counts as new.
   */
  async seen(
    tx: Tx,
    input: {
      userId: string;
      fingerprint: string;
      userAgent: string | null;
      now: Date;
      location?: Location | null;
    },
  ): Promise<SeenDevice> {
    const row = await tx
      .insertInto('known_devices')
      .values({
        id: randomUUID(),
        user_id: input.userId,
        fingerprint: input.fingerprint,
        user_agent: input.userAgent,
        country: input.location?.country ?? null,
        city: input.location?.city ?? null,
        trusted: false,
        first_seen_at: input.now,
        last_seen_at: input.now,
        deleted_at: null,
      })
      .onConflict((oc) =>
        oc.columns(['user_id', 'fingerprint']).doUpdateSet({
          last_seen_at: sql`greatest(known_devices.last_seen_at, excluded.last_seen_at)`,
          user_agent: sql`excluded.user_agent`,
          country: sql`excluded.country`,
          city: sql`excluded.city`,
          trusted: sql`known_devices.trusted and known_devices.deleted_at is null`,
          first_seen_at: sql`case when known_devices.deleted_at is null then known_devices.first_seen_at else excluded.first_seen_at end`,
          // Marks a revival in this statement's result: deleted_at's old value is not visible in RETURNING.
          deleted_at: sql`case when known_devices.deleted_at is null then null else '-infinity'::timestamptz end`,
        }),
      )
      .returning(['id', sql<boolean>`(xmax = 0)`.as('inserted'), 'deleted_at'])
      .executeTakeFirstOrThrow();
    const revived = row.deleted_at !== null;
    if (revived) {
      await tx.updateTable('known_devices').set({ deleted_at: null }).where('id', '=', row.id).execute();
    }
    return { id: row.id, isNew: row.inserted || revived };
  }

  list(userId: string): Promise<DeviceRow[]> {
    return this.db
      .selectFrom('known_devices')
      .selectAll()
      .where('user_id', '=', userId)
      .where('deleted_at', 'is', null)
      .orderBy('last_seen_at', 'desc')
      .execute();
  }

  /** The user's own device (deleted or not); another user's id is simply not found. */
  findOwn(tx: Tx, userId: string, deviceId: string): Promise<DeviceRow | undefined> {
    return tx
      .selectFrom('known_devices')
      .selectAll()
      .where('id', '=', deviceId)
      .where('user_id', '=', userId)
      .forUpdate()
      .executeTakeFirst();
  }

  async trust(tx: Tx, deviceId: string): Promise<DeviceRow> {
    return tx
      .updateTable('known_devices')
      .set({ trusted: true })
      .where('id', '=', deviceId)
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  async softDelete(tx: Tx, deviceId: string, now: Date): Promise<void> {
    await tx
      .updateTable('known_devices')
      .set({ deleted_at: now, trusted: false })
      .where('id', '=', deviceId)
      .where('deleted_at', 'is', null)
      .execute();
  }
}

export interface DeviceTrackerDeps {
  devices: DeviceStore;
  mailKeys: () => Promise<KeyRing>;
  appUrl: string;
}

/**
 * Called inside the login transaction: records the device and, the first time it is seen, adds
 * one `login.new_device` audit row and one new-device mail in the same transaction, so a
 * rolled-back login sends nothing and concurrent first logins send exactly one.
 */
export class DeviceTracker {
  constructor(private readonly deps: DeviceTrackerDeps) {}

  async track(
    tx: Tx,
    user: { id: string; email: string },
    meta: { ip: string; userAgent: string | null; now: Date },
    signIn: { location?: Location | null; sessionId?: string } = {},
  ): Promise<string> {
    const ring = await this.deps.mailKeys();
    const fingerprint = deviceFingerprint(meta.ip, meta.userAgent);
    const device = await this.deps.devices.seen(tx, {
      userId: user.id,
      fingerprint,
      userAgent: meta.userAgent,
      now: meta.now,
      location: signIn.location ?? null,
    });
    if (device.isNew) {
      await appendAudit(tx, {
        userId: user.id,
        action: 'login.new_device',
        actor: { type: 'user', id: user.id },
        target: { type: 'device', id: device.id },
        metadata: {
          fingerprint,
          ...signInContext(signIn.location ?? null, meta.userAgent),
          ...(signIn.sessionId ? { sessionId: signIn.sessionId } : {}),
        },
        ip: meta.ip,
        now: meta.now,
      });
      await queueMail(
        tx,
        ring,
        renderMail(this.deps.appUrl, {
          type: 'new-device',
          to: user.email,
          userAgent: meta.userAgent ?? 'unknown',
          ip: meta.ip,
          when: meta.now.toISOString(),
          place: placeName(signIn.location ?? null),
        }),
        meta.now,
      );
    }
    return device.id;
  }
}
