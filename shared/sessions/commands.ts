import { appendAudit } from '../audit/append.js';
import type { Tx } from '../bus/outbox.js';
import type { Db } from '../db/connect.js';
import { fail, type Result } from '../errors/codes.js';
import type { DeviceRow, DeviceStore } from './devices.js';
import type { SessionService } from './service.js';
import type { RevokedSession, SessionStore } from './store.js';

export interface Actor {
  userId: string;
  sessionId: string;
  ip: string | null;
  now: Date;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * What a user does to their own sessions and devices. Each command is one transaction holding the
 * change, its audit rows and its `session-revoked` outbox rows. Another user's ids are NOT_FOUND.
 */
export class SessionCommands {
  constructor(
    private readonly db: Db,
    private readonly store: SessionStore,
    private readonly sessions: SessionService,
    private readonly devices: DeviceStore,
  ) {}

  /** Revoking an already revoked own session succeeds again without a second event. */
  revokeOne(actor: Actor, sessionId: string): Promise<Result<{ revoked: number }>> {
    if (!UUID.test(sessionId)) return Promise.resolve(fail('NOT_FOUND', 'No such session.'));
    return this.db.transaction().execute(async (tx) => {
      const own = await this.store.findOwn(tx, actor.userId, sessionId);
      if (!own) return fail('NOT_FOUND', 'No such session.');
      const revoked = await this.sessions.revokeById(tx, sessionId, 'revoked_by_user', actor.now);
      await this.#announce(tx, revoked, 'revoked_by_user', actor);
      return { ok: true as const, revoked: revoked.length };
    });
  }

  revokeOthers(actor: Actor): Promise<{ revoked: number }> {
    return this.#revokeAll(actor, 'revoked_others', { exceptSessionId: actor.sessionId });
  }

  revokeAll(actor: Actor): Promise<{ revoked: number }> {
    return this.#revokeAll(actor, 'revoked_all', {});
  }

  trustDevice(actor: Actor, deviceId: string): Promise<Result<{ device: DeviceRow }>> {
    if (!UUID.test(deviceId)) return Promise.resolve(fail('NOT_FOUND', 'No such device.'));
    return this.db.transaction().execute(async (tx) => {
      const own = await this.devices.findOwn(tx, actor.userId, deviceId);
      if (!own || own.deleted_at) return fail('NOT_FOUND', 'No such device.');
      if (own.trusted) return { ok: true as const, device: own };
      const device = await this.devices.trust(tx, deviceId);
      await appendAudit(tx, {
        userId: actor.userId,
        action: 'device.trusted',
        actor: { type: 'user', id: actor.userId },
        target: { type: 'device', id: deviceId },
        ip: actor.ip,
        now: actor.now,
      });
      return { ok: true as const, device };
    });
  }

  /** Soft delete plus the end of every session started on that device; forgetting twice is a no-op. */
  forgetDevice(actor: Actor, deviceId: string): Promise<Result<{ revoked: number }>> {
    if (!UUID.test(deviceId)) return Promise.resolve(fail('NOT_FOUND', 'No such device.'));
    return this.db.transaction().execute(async (tx) => {
      const own = await this.devices.findOwn(tx, actor.userId, deviceId);
      if (!own) return fail('NOT_FOUND', 'No such device.');
      if (own.deleted_at) return { ok: true as const, revoked: 0 };
      await this.devices.softDelete(tx, deviceId, actor.now);
      const revoked = await this.store.revokeByDevice(
        tx,
        actor.userId,
        deviceId,
        'device_deleted',
        actor.now,
      );
      await this.#announce(tx, revoked, 'device_deleted', actor);
      await appendAudit(tx, {
        userId: actor.userId,
        action: 'device.deleted',
        actor: { type: 'user', id: actor.userId },
        target: { type: 'device', id: deviceId },
        metadata: { sessionsRevoked: revoked.length },
        ip: actor.ip,
        now: actor.now,
      });
      return { ok: true as const, revoked: revoked.length };
    });
  }

  #revokeAll(actor: Actor, reason: string, options: { exceptSessionId?: string }) {
    return this.db.transaction().execute(async (tx) => {
      const revoked = await this.sessions.revokeAllForUser(tx, actor.userId, reason, actor.now, options);
      await this.#announce(tx, revoked, reason, actor);
      return { revoked: revoked.length };
    });
  }

  #announce(tx: Tx, revoked: RevokedSession[], reason: string, actor: Actor) {
    return this.sessions.announceRevoked(tx, revoked, reason, actor.now, {
      actorId: actor.userId,
      ip: actor.ip,
    });
  }
}
