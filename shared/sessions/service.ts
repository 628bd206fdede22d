import { appendAudit } from '../audit/append.js';
import { enqueue, type Tx } from '../bus/outbox.js';
import { isTokenShaped, randomToken } from '../crypto/tokens.js';
import { fail, type Result } from '../errors/codes.js';
import type { Metrics } from '../log/metrics.js';
import type { Location } from '../signals/location.js';
import {
  ABSOLUTE_LIFETIME_MS,
  DEFAULT_IDLE_TIMEOUT_MINUTES,
  revocationStreamKey,
  type SessionState,
  sessionState,
  sessionTokenHash,
  shouldTouch,
} from './model.js';
import type { RevokedSession, SessionRow, SessionStore, SessionWithUser, SudoProof } from './store.js';
import type { StepUpReason } from './tables.js';

export interface StartSessionInput {
  /** Chosen by a caller that must name the session before it exists (audit rows of its login). */
  id?: string;
  userId: string;
  ip: string | null;
  userAgent: string | null;
  now: Date;
  /** Kept from the session a replacement continues, so org absolute timeouts still count from the login. */
  createdAt?: Date;
  orgId?: string | null;
  deviceId?: string | null;
  idleTimeoutMinutes?: number;
  lifetimeMs?: number;
  sudoUntil?: Date | null;
  sudo?: SudoProof | null;
  /** Where the sign-in happened (null: unknown or a private address). */
  location?: Location | null;
  /** Holds the session until it steps up (impossible travel). */
  stepUpReason?: StepUpReason | null;
}

export type AuthenticateResult =
  | { ok: true; value: SessionWithUser }
  | { ok: false; reason: SessionState | 'unknown' | 'malformed' | 'disabled' };

/**
 * Session lifecycle. The token is returned once, to be handed to the client; the database keeps
 * only SHA-256(token). Validity is decided on every request from the row (no cache by default),
 * so a revocation takes effect on the very next request on every instance.
 */
export class SessionService {
  constructor(
    private readonly store: SessionStore,
    private readonly metrics?: Metrics,
  ) {}

  async start(tx: Tx, input: StartSessionInput): Promise<{ token: string; session: SessionRow }> {
    const token = randomToken();
    const lifetimeMs = Math.min(input.lifetimeMs ?? ABSOLUTE_LIFETIME_MS, ABSOLUTE_LIFETIME_MS);
    const session = await this.store.insert(tx, {
      ...(input.id ? { id: input.id } : {}),
      tokenHash: sessionTokenHash(token),
      userId: input.userId,
      orgId: input.orgId ?? null,
      deviceId: input.deviceId ?? null,
      ip: input.ip,
      userAgent: input.userAgent,
      now: input.now,
      ...(input.createdAt ? { createdAt: input.createdAt } : {}),
      expiresAt: new Date(input.now.getTime() + lifetimeMs),
      idleTimeoutMinutes: input.idleTimeoutMinutes ?? DEFAULT_IDLE_TIMEOUT_MINUTES,
      sudoUntil: input.sudoUntil ?? null,
      sudo: input.sudo ?? null,
      location: input.location ?? null,
      stepUpReason: input.stepUpReason ?? null,
    });
    return { token, session };
  }

  /**
   * Replaces a session with a fresh one after its user proved more (step-up) or gained privilege:
   * a new token for the same user, org binding, device, idle timeout and absolute expiry, and the
   * old row revoked (with its `session-revoked` event) in the same transaction, so a token seen or
   * planted earlier never carries the new rights (no fixation). Sudo only as the caller passes it.
   * The new row keeps the login's created_at: org absolute timeouts count from it, and a swap must
   * not restart them. Fails when the session was revoked meanwhile (another tab, a reset).
   * The sign-in's location and any step-up hold carry over, unless the caller's step-up is the
   * one that lifts the hold (`releaseHold`).
   */
  async replace(
    tx: Tx,
    current: SessionRow,
    reason: string,
    meta: { ip: string | null; userAgent: string | null; now: Date },
    options: { sudoUntil?: Date | null; sudo?: SudoProof | null; releaseHold?: boolean } = {},
  ): Promise<Result<{ token: string; session: SessionRow }>> {
    const revoked = await this.store.revokeById(tx, current.id, reason, meta.now);
    if (revoked.length === 0) return fail('UNAUTHENTICATED', 'The session is not valid; sign in again.');
    const started = await this.start(tx, {
      userId: current.user_id,
      orgId: current.org_id,
      deviceId: current.device_id,
      ip: meta.ip,
      userAgent: meta.userAgent,
      now: meta.now,
      createdAt: current.created_at,
      idleTimeoutMinutes: current.idle_timeout_minutes,
      lifetimeMs: current.expires_at.getTime() - meta.now.getTime(),
      sudoUntil: options.sudoUntil ?? null,
      sudo: options.sudo ?? null,
      location: locationOf(current),
      stepUpReason: options.releaseHold ? null : current.step_up_reason,
    });
    await this.announceRevoked(tx, revoked, reason, meta.now);
    return { ok: true, ...started };
  }

  /** See SessionStore.lockLive: for a transaction that decides to replace the session after other checks. */
  lockLive(tx: Tx, sessionId: string): Promise<SessionRow | null> {
    return this.store.lockLive(tx, sessionId);
  }

  /**
   * `touch: false` leaves last_seen_at alone so an org's stricter idle timeout can be judged on
   * the value before this request; the caller then calls `touch` once the org allowed it.
   */
  async authenticate(
    token: string,
    now: Date,
    options: { touch?: boolean } = {},
  ): Promise<AuthenticateResult> {
    this.metrics?.increment('session_validations');
    if (!isTokenShaped(token)) return { ok: false, reason: 'malformed' };
    const found = await this.store.findByTokenHash(sessionTokenHash(token));
    if (!found) return { ok: false, reason: 'unknown' };
    const state = stateOf(found.session, now);
    if (state !== 'active') return { ok: false, reason: state };
    if (found.user.disabledAt) return { ok: false, reason: 'disabled' };
    if (options.touch !== false && shouldTouch(found.session.last_seen_at, now)) await this.touch(found, now);
    return { ok: true, value: found };
  }

  async touch(found: SessionWithUser, now: Date): Promise<void> {
    if (!shouldTouch(found.session.last_seen_at, now)) return;
    await this.store.touch(found.session.id, now, found.session.device_id);
    found.session.last_seen_at = now;
  }

  /**
   * Announces revocations: one `session-revoked` event each (live clients are told at once) and,
   * when an actor is given, an `auth_session.revoked` audit row in the user's chain.
   */
  async announceRevoked(
    tx: Tx,
    revoked: RevokedSession[],
    reason: string,
    now: Date,
    audit?: { actorId: string; ip: string | null },
  ): Promise<void> {
    for (const session of revoked) {
      await enqueue(
        tx,
        'session-revoked',
        {
          sessionId: session.id,
          userId: session.userId,
          streamKey: revocationStreamKey(session.tokenHash),
          reason,
        },
        { now, ...(session.orgId ? { orgId: session.orgId } : {}) },
      );
      if (audit) {
        await appendAudit(tx, {
          userId: session.userId,
          action: 'auth_session.revoked',
          actor: { type: 'user', id: audit.actorId },
          target: { type: 'session', id: session.id },
          metadata: { reason },
          ip: audit.ip,
          now,
        });
      }
    }
  }

  revokeById(tx: Tx, sessionId: string, reason: string, now: Date) {
    return this.store.revokeById(tx, sessionId, reason, now);
  }

  revokeAllForUserInOrg(tx: Tx, userId: string, orgId: string, reason: string, now: Date) {
    return this.store.revokeAllForUserInOrg(tx, userId, orgId, reason, now);
  }

  revokeAllForUser(
    tx: Tx,
    userId: string,
    reason: string,
    now: Date,
    options?: { exceptSessionId?: string },
  ) {
    return this.store.revokeAllForUser(tx, userId, reason, now, options);
  }
}

/** The sign-in location a session row carries, or null when it was not located. */
export function locationOf(row: SessionRow): Location | null {
  if (row.country === null || row.latitude === null || row.longitude === null) return null;
  return {
    country: row.country,
    city: row.city,
    latitude: row.latitude,
    longitude: row.longitude,
    accuracyRadiusKm: row.accuracy_radius_km ?? 0,
  };
}

/** Whether a session row still stands at `now` (sessionState over the row's columns). */
export function stateOf(row: SessionRow, now: Date): SessionState {
  return sessionState(
    {
      createdAt: row.created_at,
      lastSeenAt: row.last_seen_at,
      expiresAt: row.expires_at,
      idleTimeoutMinutes: row.idle_timeout_minutes,
      revokedAt: row.revoked_at,
    },
    now,
  );
}
