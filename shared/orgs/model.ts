import { DEFAULT_IDLE_TIMEOUT_MINUTES, NON_ENTERPRISE_FALLBACK_IDLE_MINUTES } from '../sessions/model.js';

/**
 * Org roles, lowest first. The same literals as the HTTP edge's `roles` (shared/http/route.ts);
 * the domain keeps its own list because domains do not import the edge, and the wiring in
 * shared/runtime/core.ts type-checks that the two agree.
 */
export const orgRoles = ['viewer', 'member', 'admin', 'owner'] as const;
export type OrgRole = (typeof orgRoles)[number];

export const sessionLimitActions = ['revoke_oldest', 'refuse'] as const;
export type SessionLimitAction = (typeof sessionLimitActions)[number];

/** 14 days: an org may shorten the absolute session lifetime, never lengthen it. */
export const MAX_ABSOLUTE_TIMEOUT_HOURS = 336;
export const MAX_IDLE_TIMEOUT_MINUTES = 20160;
export const MAX_CONCURRENT_SESSIONS = 1000;

export function rank(role: OrgRole): number {
  return orgRoles.indexOf(role);
}

export function atLeast(role: OrgRole, minRole: OrgRole): boolean {
  return rank(role) >= rank(minRole);
}

/** Nobody grants above their own role, and `owner` moves only by an owner's hand. */
export function canGrant(actor: OrgRole, granted: OrgRole): boolean {
  return atLeast(actor, granted) && (granted !== 'owner' || actor === 'owner');
}

/**
 * A role change that lets the member do more. Their sessions must not carry it: a token seen or
 * planted before would gain the new rights (SECURITY.md "Sessions", no fixation).
 */
export function raisesRole(from: OrgRole, to: OrgRole): boolean {
  return rank(to) > rank(from);
}

/** Changing or removing someone who is an owner is an owner's decision too. */
export function canManage(actor: OrgRole, target: OrgRole): boolean {
  return target !== 'owner' || actor === 'owner';
}

export interface OrgPolicy {
  maxConcurrentSessions: number | null;
  idleTimeoutMinutes: number | null;
  absoluteTimeoutHours: number | null;
  requireMfa: boolean;
  enterprise: boolean;
  onLimit: SessionLimitAction;
  enforceSso: boolean;
  allowBreakGlass: boolean;
  /** Step-ups for this org accept only a passkey. */
  requirePasskey: boolean;
  /** With requirePasskey: only passkeys of these authenticator models (AAGUIDs) count; null for any. */
  allowedAaguids: string[] | null;
}

/** The org's own idle timeout, else 24 h for enterprise orgs, else the short 30-minute fallback. */
export function effectiveIdleMinutes(policy: Pick<OrgPolicy, 'idleTimeoutMinutes' | 'enterprise'>): number {
  if (policy.idleTimeoutMinutes !== null) return policy.idleTimeoutMinutes;
  return policy.enterprise ? DEFAULT_IDLE_TIMEOUT_MINUTES : NON_ENTERPRISE_FALLBACK_IDLE_MINUTES;
}

export type PolicyVerdict = 'ok' | 'idle' | 'expired';

/**
 * Whether a session may act in an org at `now`, judged by that org's timeouts. `lastActivityAt`
 * is the session's last request in this org (its personal routes never count): an org's idle
 * timeout must not be kept alive by `GET /api/sessions/current`.
 */
export function sessionAllowedByPolicy(
  policy: Pick<OrgPolicy, 'idleTimeoutMinutes' | 'enterprise' | 'absoluteTimeoutHours'>,
  session: { createdAt: Date; lastActivityAt: Date },
  now: Date,
): PolicyVerdict {
  if (
    policy.absoluteTimeoutHours !== null &&
    now.getTime() >= session.createdAt.getTime() + policy.absoluteTimeoutHours * 3_600_000
  ) {
    return 'expired';
  }
  if (now.getTime() >= session.lastActivityAt.getTime() + effectiveIdleMinutes(policy) * 60_000)
    return 'idle';
  return 'ok';
}

/** Activity in an org older than this is idle there: the org's live sessions start after it. */
export function orgIdleCutoff(policy: Pick<OrgPolicy, 'idleTimeoutMinutes' | 'enterprise'>, now: Date): Date {
  return new Date(now.getTime() - effectiveIdleMinutes(policy) * 60_000);
}

export function membershipActive(expiresAt: Date | null, now: Date): boolean {
  return expiresAt === null || now.getTime() < expiresAt.getTime();
}

/**
 * A session about to act in an org for the first time, given how many of the same user's other
 * sessions are live in that org: let it in, refuse it, or end the reach of the oldest ones first.
 * Only this org's cap counts; it never decides whether the person may sign in.
 */
export function orgSessionCapDecision(
  liveInOrg: number,
  cap: { max: number | null; onLimit: SessionLimitAction },
): { refuse: true } | { refuse: false; endOldest: number } {
  if (cap.max === null || liveInOrg < cap.max) return { refuse: false, endOldest: 0 };
  if (cap.onLimit === 'refuse') return { refuse: true };
  return { refuse: false, endOldest: liveInOrg - cap.max + 1 };
}

/**
 * Whether an API key survives its creator's new role (null: no longer a member). Keys above the
 * creator's reach end with it: a removed or demoted admin keeps nothing they could not mint now.
 */
export function keySurvives(creatorRole: OrgRole | null, keyRole: OrgRole): boolean {
  return creatorRole !== null && rank(keyRole) <= rank(creatorRole);
}

/**
 * The role a credential's creator holds in the org at `now`, or null once they are gone: removed
 * (no row) or lapsed by the membership's `expires_at`, which nothing runs at, so the keys and
 * SCIM tokens they made are judged against this on every use.
 */
export function creatorRoleAt(
  creator: { role: OrgRole | null; expiresAt: Date | null },
  now: Date,
): OrgRole | null {
  return creator.role !== null && membershipActive(creator.expiresAt, now) ? creator.role : null;
}

/**
 * Whether a pending invitation still stands for its inviter's role (null: no longer a member):
 * only an admin or owner who could grant that role today. Checked when a member is removed or
 * demoted, and again when the invitation is accepted.
 */
export function invitationSurvives(inviterRole: OrgRole | null, invitedRole: OrgRole): boolean {
  return inviterRole !== null && atLeast(inviterRole, 'admin') && canGrant(inviterRole, invitedRole);
}

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ids come from URLs; anything not uuid-shaped cannot name a row and never reaches SQL. */
export function isId(value: string | undefined | null): value is string {
  return typeof value === 'string' && UUID_PATTERN.test(value);
}
