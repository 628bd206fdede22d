import { sql } from 'kysely';
import '../accounts/tables.js';
import type { Tx } from '../bus/outbox.js';
import './tables.js';

/**
 * An admin's removal outranks the org's SSO: the identity provider may still let the person sign
 * in (nobody unassigned them there), and its just-in-time membership would undo the removal at
 * their next sign-in. So a removal is remembered until an admin invites them again or the org's
 * SCIM provisions them (both deliberate), and SSO refuses them meanwhile. Leaving is the person's
 * own choice and holds nothing.
 */
export async function holdRemoval(
  tx: Tx,
  orgId: string,
  userId: string,
  removedBy: string,
  now: Date,
): Promise<void> {
  await tx
    .insertInto('org_removals')
    .values({ org_id: orgId, user_id: userId, removed_by: removedBy, removed_at: now })
    .onConflict((oc) =>
      oc.columns(['org_id', 'user_id']).doUpdateSet({ removed_by: removedBy, removed_at: now }),
    )
    .execute();
}

/**
 * Whether an admin removed this person from the org and nobody has let them back in since. An
 * admin's invitation to their address that still stands (not accepted, withdrawn or expired) lets
 * them back: a person who signs in only through the org's SSO could not accept it otherwise.
 */
export async function removedByAdmin(tx: Tx, orgId: string, userId: string, now: Date): Promise<boolean> {
  const row = await tx
    .selectFrom('org_removals')
    .innerJoin('users', 'users.id', 'org_removals.user_id')
    .select('org_removals.user_id')
    .where('org_removals.org_id', '=', orgId)
    .where('org_removals.user_id', '=', userId)
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('invitations')
            .innerJoin('one_time_tokens', (join) =>
              join
                .on('one_time_tokens.purpose', '=', 'invitation')
                .on('one_time_tokens.subject', '=', sql<string>`invitations.id::text`),
            )
            .select('invitations.id')
            .whereRef('invitations.email_normalized', '=', 'users.email_normalized')
            .where('invitations.org_id', '=', orgId)
            .where('invitations.accepted_at', 'is', null)
            .where('invitations.revoked_at', 'is', null)
            .where('one_time_tokens.used_at', 'is', null)
            .where('one_time_tokens.expires_at', '>', now),
        ),
      ),
    )
    .executeTakeFirst();
  return !!row;
}

/** An invitation accepted or a SCIM provisioning: the person is back by someone's decision. */
export async function forgetRemoval(tx: Tx, orgId: string, userId: string): Promise<void> {
  await tx.deleteFrom('org_removals').where('org_id', '=', orgId).where('user_id', '=', userId).execute();
}
