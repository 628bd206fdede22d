import { sql } from 'kysely';
import '../accounts/tables.js';
import type { Tx } from '../bus/outbox.js';
import { creatorRoleAt, invitationSurvives, type OrgRole } from './model.js';
import '../scim/tables.js';
import './tables.js';

/**
 * An admin's removal outranks the org's SSO: the identity provider may still let the person sign
 * in (nobody unassigned them there), and its just-in-time membership would undo the removal at
 * their next sign-in. So a removal is remembered until an admin invites them again or the org's
 * SCIM provisions them (both deliberate), and SSO refuses them meanwhile. Leaving is the person's
 * own choice and holds nothing. Invitations to their address pending from before are withdrawn.
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
  // Invitations to their address still pending from before (SSO made them a member without
  // spending one) go too: accepting one would undo the removal as surely as SSO would.
  await tx
    .updateTable('invitations')
    .set({ revoked_at: now, revoked_reason: 'invitee_removed' })
    .where('org_id', '=', orgId)
    .where('email_normalized', '=', (eb) =>
      eb.selectFrom('users').select('users.email_normalized').where('users.id', '=', userId),
    )
    .where('accepted_at', 'is', null)
    .where('revoked_at', 'is', null)
    .execute();
}

/** An invitation that lets a removed person back in: the membership SSO then makes is the one it offers. */
export interface ReturnInvitation {
  id: string;
  role: OrgRole;
  membershipExpiresAt: Date | null;
}

/**
 * Whether an admin removed this person from the org and nobody has let them back in since: null
 * when no removal holds, else the invitation that lets them back (or null inside: still held). Only
 * an invitation to their address sent after the removal counts (one pending from before, which
 * SSO's just-in-time membership never spent, says nothing about the removal), that still stands
 * (not accepted, withdrawn or expired) and whose inviter could still grant it today (or the org's
 * SCIM sent it): a person who signs in only through the org's SSO could not accept it otherwise.
 */
export async function removalHold(
  tx: Tx,
  orgId: string,
  userId: string,
  now: Date,
): Promise<{ invitation: ReturnInvitation | null } | null> {
  const removal = await tx
    .selectFrom('org_removals')
    .innerJoin('users', 'users.id', 'org_removals.user_id')
    .select(['org_removals.removed_at', 'users.email_normalized'])
    .where('org_removals.org_id', '=', orgId)
    .where('org_removals.user_id', '=', userId)
    .executeTakeFirst();
  if (!removal) return null;
  const standing = await tx
    .selectFrom('invitations')
    .innerJoin('one_time_tokens', (join) =>
      join
        .on('one_time_tokens.purpose', '=', 'invitation')
        .on('one_time_tokens.subject', '=', sql<string>`invitations.id::text`),
    )
    .leftJoin('memberships as inviter', (join) =>
      join
        .onRef('inviter.org_id', '=', 'invitations.org_id')
        .onRef('inviter.user_id', '=', 'invitations.invited_by'),
    )
    .leftJoin('scim_users', (join) =>
      join
        .onRef('scim_users.org_id', '=', 'invitations.org_id')
        .onRef('scim_users.invitation_id', '=', 'invitations.id'),
    )
    .select([
      'scim_users.user_id as scim_user',
      'invitations.id',
      'invitations.role',
      'invitations.membership_expires_at',
      'invitations.invited_by',
      'inviter.role as inviter_role',
      'inviter.expires_at as inviter_expires_at',
    ])
    .where('invitations.org_id', '=', orgId)
    .where('invitations.email_normalized', '=', removal.email_normalized)
    .where('invitations.created_at', '>=', removal.removed_at)
    .where('invitations.accepted_at', 'is', null)
    .where('invitations.revoked_at', 'is', null)
    .where('one_time_tokens.used_at', 'is', null)
    .where('one_time_tokens.expires_at', '>', now)
    .orderBy('invitations.created_at', 'desc')
    .execute();
  const lets = standing.find(
    (i) =>
      (i.invited_by === null && i.scim_user !== null) ||
      invitationSurvives(
        creatorRoleAt({ role: i.inviter_role, expiresAt: i.inviter_expires_at }, now),
        i.role,
      ),
  );
  return {
    invitation: lets
      ? { id: lets.id, role: lets.role, membershipExpiresAt: lets.membership_expires_at }
      : null,
  };
}

/**
 * The invitation that let a removed person back through SSO is spent as an acceptance would spend
 * it: once, and never again after a second removal.
 */
export async function spendReturnInvitation(
  tx: Tx,
  invitation: ReturnInvitation,
  userId: string,
  now: Date,
): Promise<void> {
  await tx
    .updateTable('invitations')
    .set({ accepted_at: now, accepted_by: userId })
    .where('id', '=', invitation.id)
    .execute();
  await tx
    .updateTable('one_time_tokens')
    .set({ used_at: now })
    .where('purpose', '=', 'invitation')
    .where('subject', '=', invitation.id)
    .where('used_at', 'is', null)
    .execute();
}

/** An invitation accepted or a SCIM provisioning: the person is back by someone's decision. */
export async function forgetRemoval(tx: Tx, orgId: string, userId: string): Promise<void> {
  await tx.deleteFrom('org_removals').where('org_id', '=', orgId).where('user_id', '=', userId).execute();
}
