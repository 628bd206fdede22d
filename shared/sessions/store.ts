import { randomUUID } from 'node:crypto';
import { type ExpressionBuilder, sql } from 'kysely';
import type { Tx } from '../bus/outbox.js';
import { compiledOnce } from '../db/compiled.js';
import type { Db } from '../db/connect.js';
import type { Database } from '../db/schema.js';
import '../accounts/tables.js';
import type { Location } from '../signals/location.js';
import { TOUCH_INTERVAL_MS } from './model.js';
import type { SessionsTable, StepUpReason } from './tables.js';
import './tables.js';

export type SessionRow = SessionsTable;

export interface SessionWithUser {
  session: SessionRow;
  user: { id: string; email: string; name: string; disabledAt: Date | null };
}

export interface RevokedSession {
  id: string;
  userId: string;
  tokenHash: Buffer;
  orgId: string | null;
}

/** How a step-up was passed: what an org that requires passkeys asks of a sudo window. */
export interface SudoProof {
  method: string;
  aaguid: string | null;
}

export interface NewSession {
  id?: string;
  tokenHash: Buffer;
  userId: string;
  orgId?: string | null;
  deviceId?: string | null;
  ip: string | null;
  userAgent: string | null;
  now: Date;
  /** When the login this session continues happened; `now` for a new login. */
  createdAt?: Date;
  expiresAt: Date;
  idleTimeoutMinutes: number;
  sudoUntil?: Date | null;
  sudo?: SudoProof | null;
  location?: Location | null;
  stepUpReason?: StepUpReason | null;
}

/** Session persistence, named by intent. Every revocation returns what it revoked so callers can emit events. */
const byTokenHash = compiledOnce((db: Db, tokenHash: Buffer) =>
  db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .selectAll('sessions')
    .select(['users.email as user_email', 'users.name as user_name', 'users.disabled_at as user_disabled_at'])
    .where('sessions.token_hash', '=', tokenHash),
);

export class SessionStore {
  constructor(private readonly db: Db) {}

  async insert(tx: Tx, input: NewSession): Promise<SessionRow> {
    return tx
      .insertInto('sessions')
      .values({
        id: input.id ?? randomUUID(),
        token_hash: input.tokenHash,
        user_id: input.userId,
        org_id: input.orgId ?? null,
        device_id: input.deviceId ?? null,
        ip: input.ip,
        user_agent: input.userAgent,
        country: input.location?.country ?? null,
        city: input.location?.city ?? null,
        latitude: input.location?.latitude ?? null,
        longitude: input.location?.longitude ?? null,
        accuracy_radius_km: input.location?.accuracyRadiusKm ?? null,
        step_up_reason: input.stepUpReason ?? null,
        created_at: input.createdAt ?? input.now,
        last_seen_at: input.now,
        expires_at: input.expiresAt,
        idle_timeout_minutes: input.idleTimeoutMinutes,
        sudo_until: input.sudoUntil ?? null,
        sudo_method: input.sudo?.method ?? null,
        sudo_aaguid: input.sudo?.aaguid ?? null,
        revoked_at: null,
        revoked_reason: null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  /** One indexed lookup by token hash, with the owning user. */
  /** Every request's lookup (compiled once: the SQL never changes, only the hash). */
  async findByTokenHash(tokenHash: Buffer): Promise<SessionWithUser | null> {
    const [row] = await byTokenHash(this.db, tokenHash);
    if (!row) return null;
    const { user_email, user_name, user_disabled_at, ...session } = row;
    return {
      session,
      user: { id: session.user_id, email: user_email, name: user_name, disabledAt: user_disabled_at },
    };
  }

  /**
   * Moves last_seen_at forward, at most once per TOUCH_INTERVAL_MS (the WHERE makes it a no-op
   * otherwise), and with it the device's, so the devices list shows when each was last used.
   */
  async touch(sessionId: string, now: Date, deviceId: string | null = null): Promise<void> {
    await this.db
      .updateTable('sessions')
      .set({ last_seen_at: now })
      .where('id', '=', sessionId)
      .where('revoked_at', 'is', null)
      .where('last_seen_at', '<=', new Date(now.getTime() - TOUCH_INTERVAL_MS))
      .execute();
    if (deviceId) {
      await this.db
        .updateTable('known_devices')
        .set({ last_seen_at: now })
        .where('id', '=', deviceId)
        .where('last_seen_at', '<', now)
        .execute();
    }
  }

  async revokeById(tx: Tx, sessionId: string, reason: string, now: Date): Promise<RevokedSession[]> {
    return this.#revoke(tx, reason, now, (q) => q.where('id', '=', sessionId));
  }

  async revokeAllForUser(
    tx: Tx,
    userId: string,
    reason: string,
    now: Date,
    options: { exceptSessionId?: string } = {},
  ): Promise<RevokedSession[]> {
    return this.#revoke(tx, reason, now, (q) => {
      const forUser = q.where('user_id', '=', userId);
      return options.exceptSessionId ? forUser.where('id', '!=', options.exceptSessionId) : forUser;
    });
  }

  async #revoke(
    tx: Tx,
    reason: string,
    now: Date,
    // biome-ignore lint/suspicious/noExplicitAny: Kysely's update builder type is not worth spelling out here
    filter: (query: any) => any,
  ): Promise<RevokedSession[]> {
    const base = tx
      .updateTable('sessions')
      .set({ revoked_at: now, revoked_reason: reason })
      .where('revoked_at', 'is', null);
    const rows = (await filter(base).returning(['id', 'user_id', 'token_hash', 'org_id']).execute()) as Array<
      Pick<SessionRow, 'id' | 'user_id' | 'token_hash' | 'org_id'>
    >;
    return rows.map((r) => ({ id: r.id, userId: r.user_id, tokenHash: r.token_hash, orgId: r.org_id }));
  }

  /** The user's sessions that are not revoked (expiry is judged by the caller with sessionState). */
  listUnrevoked(userId: string): Promise<SessionRow[]> {
    return this.db
      .selectFrom('sessions')
      .selectAll()
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .orderBy('created_at', 'desc')
      .execute();
  }

  /** The user's own session by id, revoked or not; another user's id is simply not found. */
  findOwn(tx: Tx, userId: string, sessionId: string): Promise<SessionRow | undefined> {
    return tx
      .selectFrom('sessions')
      .selectAll()
      .where('id', '=', sessionId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
  }

  /**
   * The user's sessions that can act in the org: personal ones (org_id null) and those started
   * for this org, never one bound to another org (another tenant's admin cannot end it).
   */
  async revokeAllForUserInOrg(
    tx: Tx,
    userId: string,
    orgId: string,
    reason: string,
    now: Date,
  ): Promise<RevokedSession[]> {
    return this.#revoke(tx, reason, now, (q) =>
      q
        .where('user_id', '=', userId)
        .where((eb: ExpressionBuilder<Database, 'sessions'>) =>
          eb.or([eb('org_id', 'is', null), eb('org_id', '=', orgId)]),
        ),
    );
  }

  /**
   * Locks a session row that is not revoked, for a transaction that replaces it only after other
   * checks: no concurrent revocation can slip in between. Null when it is revoked already.
   */
  async lockLive(tx: Tx, sessionId: string): Promise<SessionRow | null> {
    return (
      (await tx
        .selectFrom('sessions')
        .selectAll()
        .where('id', '=', sessionId)
        .where('revoked_at', 'is', null)
        .forUpdate()
        .executeTakeFirst()) ?? null
    );
  }

  async revokeByDevice(tx: Tx, userId: string, deviceId: string, reason: string, now: Date) {
    return this.#revoke(tx, reason, now, (q) =>
      q.where('user_id', '=', userId).where('device_id', '=', deviceId),
    );
  }

  async setSudo(tx: Tx, sessionId: string, until: Date): Promise<void> {
    await tx.updateTable('sessions').set({ sudo_until: until }).where('id', '=', sessionId).execute();
  }

  /** Deletes sessions that ended long ago (run from the scheduler); revoked ones are kept for 30 days. */
  async purgeEnded(now: Date): Promise<number> {
    const cutoff = new Date(now.getTime() - 30 * 24 * 60 * 60 * 1000);
    const result = await this.db
      .deleteFrom('sessions')
      .where((eb) => eb.or([eb('expires_at', '<', cutoff), eb('revoked_at', '<', cutoff)]))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /**
   * The user's latest sign-in whose place is known, for the travel rule. A session the user
   * said was not them ('login_denied') is not where the user was, so it never counts.
   */
  async lastLocatedSignIn(tx: Tx, userId: string): Promise<{ location: Location; at: Date } | null> {
    const row = await tx
      .selectFrom('sessions')
      .select(['country', 'city', 'latitude', 'longitude', 'accuracy_radius_km', 'created_at'])
      .where('user_id', '=', userId)
      .where('latitude', 'is not', null)
      .where((eb) => eb.or([eb('revoked_reason', 'is', null), eb('revoked_reason', '!=', 'login_denied')]))
      .orderBy('created_at', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (!row || row.country === null || row.latitude === null || row.longitude === null) return null;
    return {
      location: {
        country: row.country,
        city: row.city,
        latitude: row.latitude,
        longitude: row.longitude,
        accuracyRadiusKm: row.accuracy_radius_km ?? 0,
      },
      at: row.created_at,
    };
  }

  /** Lifts the step-up hold of a live session; false when it is revoked or was not held. */
  async releaseHold(tx: Tx, sessionId: string): Promise<boolean> {
    const row = await tx
      .updateTable('sessions')
      .set({ step_up_reason: null })
      .where('id', '=', sessionId)
      .where('revoked_at', 'is', null)
      .where('step_up_reason', 'is not', null)
      .returning('id')
      .executeTakeFirst();
    return row !== undefined;
  }

  /** Only for tests and tooling: the raw count of a user's live sessions. */
  async countLive(userId: string): Promise<number> {
    const row = await this.db
      .selectFrom('sessions')
      .select(sql<number>`count(*)::int`.as('n'))
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .executeTakeFirstOrThrow();
    return row.n;
  }
}
