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
}

/** The org's own idle timeout, else 24 h for enterprise orgs, else the short 30-minute fallback. */
export function effectiveIdleMinutes(policy: Pick<OrgPolicy, 'idleTimeoutMinutes' | 'enterprise'>): number {
  if (policy.idleTimeoutMinutes !== null) return policy.idleTimeoutMinutes;
  return policy.enterprise ? DEFAULT_IDLE_TIMEOUT_MINUTES : NON_ENTERPRISE_FALLBACK_IDLE_MINUTES;
}

export type PolicyVerdict = 'ok' | 'idle' | 'expired';

/** Whether a session may act in an org at `now`, judged by that org's timeouts. */
export function sessionAllowedByPolicy(
  policy: Pick<OrgPolicy, 'idleTimeoutMinutes' | 'enterprise' | 'absoluteTimeoutHours'>,
  session: { createdAt: Date; lastSeenAt: Date },
  now: Date,
): PolicyVerdict {
  if (
    policy.absoluteTimeoutHours !== null &&
    now.getTime() >= session.createdAt.getTime() + policy.absoluteTimeoutHours * 3_600_000
  ) {
    return 'expired';
  }
  if (now.getTime() >= session.lastSeenAt.getTime() + effectiveIdleMinutes(policy) * 60_000) return 'idle';
  return 'ok';
}

export function membershipActive(expiresAt: Date | null, now: Date): boolean {
  return expiresAt === null || now.getTime() < expiresAt.getTime();
}

/**
 * How many of a user's live sessions to end before a new login, given the orgs' caps, or
 * 'refuse'. The strictest org wins: one refusing org at its cap refuses the login.
 */
export function sessionLimitDecision(
  liveSessions: number,
  caps: Array<{ max: number; onLimit: SessionLimitAction }>,
): { refuse: true } | { refuse: false; revokeOldest: number } {
  let revokeOldest = 0;
  for (const cap of caps) {
    if (liveSessions < cap.max) continue;
    if (cap.onLimit === 'refuse') return { refuse: true };
    revokeOldest = Math.max(revokeOldest, liveSessions - cap.max + 1);
  }
  return { refuse: false, revokeOldest };
}

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ids come from URLs; anything not uuid-shaped cannot name a row and never reaches SQL. */
export function isId(value: string | undefined | null): value is string {
  return typeof value === 'string' && UUID_PATTERN.test(value);
}
