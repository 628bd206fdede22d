import type { Tx } from '../bus/outbox.js';
import './tables.js';

/**
 * Whether the org's identity provider suspended this person (`active: false`): their membership
 * is gone and only SCIM re-activation brings it back, never the org's SSO just-in-time membership.
 */
export async function suspendedByScim(tx: Tx, orgId: string, userId: string): Promise<boolean> {
  const row = await tx
    .selectFrom('scim_users')
    .select('user_id')
    .where('org_id', '=', orgId)
    .where('user_id', '=', userId)
    .where('suspended_at', 'is not', null)
    .executeTakeFirst();
  return !!row;
}

/**
 * A person who joins the org another way (an admin's invitation) starts over: a suspension or a
 * SCIM invitation left from before is moot, and must not let SCIM restore an old role after the
 * person leaves or is removed again.
 */
export async function forgetScimHold(tx: Tx, orgId: string, userId: string, now: Date): Promise<void> {
  await tx
    .updateTable('scim_users')
    .set({
      suspended_at: null,
      suspended_role: null,
      suspended_expires_at: null,
      invitation_id: null,
      updated_at: now,
    })
    .where('org_id', '=', orgId)
    .where('user_id', '=', userId)
    .execute();
}
