import { canGrant, type OrgRole } from '../orgs/model.js';

/** last_used_at is a hint for humans, so one write a minute per key is plenty. */
export const LAST_USED_RESOLUTION_SECONDS = 60;

export interface KeyState {
  expiresAt: Date | null;
  revokedAt: Date | null;
}

/** Revoked and expired keys fail on the very next use (this runs on every use, uncached). */
export function keyUsable(key: KeyState, now: Date): boolean {
  if (key.revokedAt !== null) return false;
  return key.expiresAt === null || now.getTime() < key.expiresAt.getTime();
}

export function lastUsedDue(lastUsedAt: Date | null, now: Date): boolean {
  return lastUsedAt === null || now.getTime() - lastUsedAt.getTime() >= LAST_USED_RESOLUTION_SECONDS * 1000;
}

export type IssueVerdict = 'ok' | 'role_too_high' | 'step_up_required' | 'expiry_in_past';

/**
 * Who may mint which key: never above the caller's own role (`owner` keys only by owners), an
 * `owner` key only inside the session's step-up window, and never an already-expired key.
 */
export function issueVerdict(
  caller: { role: OrgRole; inStepUp: boolean },
  wanted: { role: OrgRole; expiresAt: Date | null },
  now: Date,
): IssueVerdict {
  if (!canGrant(caller.role, wanted.role)) return 'role_too_high';
  if (wanted.role === 'owner' && !caller.inStepUp) return 'step_up_required';
  if (wanted.expiresAt !== null && wanted.expiresAt.getTime() <= now.getTime()) return 'expiry_in_past';
  return 'ok';
}
