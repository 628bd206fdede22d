import { randomUUID } from 'node:crypto';
import { normalizeEmail } from '../accounts/email.js';
import { consumeToken, issueToken } from '../accounts/one-time-tokens.js';
import { appendAudit } from '../audit/append.js';
import type { Tx } from '../bus/outbox.js';
import { sha256 } from '../crypto/tokens.js';
import { fail, type Result } from '../errors/codes.js';
import { queueMail } from '../mail/queue.js';
import { renderMail } from '../mail/templates.js';
import { forgetScimHold } from '../scim/suspension.js';
import type { SessionRow } from '../sessions/store.js';
import { canGrant, invitationSurvives, membershipActive, type OrgRole } from './model.js';
import { forgetRemoval } from './removals.js';
import type { OrgDeps } from './services.js';
import type { OrgStore } from './store.js';

export interface OrgActor {
  userId: string;
  role: OrgRole;
  ip: string | null;
}

export interface InvitationCreated {
  id: string;
  email: string;
  role: OrgRole;
  membershipExpiresAt: Date | null;
  invitationExpiresAt: Date;
}

export interface PendingInvitation {
  id: string;
  email: string;
  role: OrgRole;
  invitedBy: string | null;
  expiresAt: Date;
}

const NO_INVITATION = 'This invitation does not exist, was already used, or has expired.';

/**
 * Invitations by email. The 32-byte token is stored hashed in one_time_tokens (7 days, single
 * use) and travels only in the sealed mail. Accepting takes a signed-in user whose verified
 * email is the invited one, so a forwarded or leaked link is useless to anyone else, and swaps
 * that user's session for a fresh one: joining is a privilege change (SECURITY.md "Sessions").
 */
export class InvitationService {
  constructor(
    private readonly store: OrgStore,
    private readonly deps: Pick<OrgDeps, 'mailKeys' | 'appUrl' | 'sessions'>,
  ) {}

  async invite(
    orgId: string,
    actor: OrgActor,
    input: { email: string; role: OrgRole; expiresAt: Date | null },
    now: Date,
  ): Promise<Result<{ invitation: InvitationCreated }>> {
    if (!canGrant(actor.role, input.role)) {
      return fail('INSUFFICIENT_ROLE', `Your role (${actor.role}) cannot grant the ${input.role} role.`);
    }
    if (input.expiresAt && input.expiresAt.getTime() <= now.getTime()) {
      return fail('VALIDATION_FAILED', 'The request is not valid.', {
        issues: [{ path: 'expiresAt', message: 'must be in the future' }],
      });
    }
    const ring = await this.deps.mailKeys();
    const emailNormalized = normalizeEmail(input.email);
    return this.store.db.transaction().execute(async (tx) => {
      const org = await this.store.lockOrg(tx, orgId);
      if (!org) return fail('NOT_FOUND');
      const existing = await tx
        .selectFrom('memberships')
        .innerJoin('users', 'users.id', 'memberships.user_id')
        .select('memberships.expires_at')
        .where('memberships.org_id', '=', orgId)
        .where('users.email_normalized', '=', emailNormalized)
        .executeTakeFirst();
      if (existing && membershipActive(existing.expires_at, now)) {
        return fail('CONFLICT', 'That person is already a member; change their role instead.');
      }
      const id = randomUUID();
      await tx
        .insertInto('invitations')
        .values({
          id,
          org_id: orgId,
          email: input.email.trim(),
          email_normalized: emailNormalized,
          role: input.role,
          membership_expires_at: input.expiresAt,
          invited_by: actor.userId,
          created_at: now,
          accepted_at: null,
          accepted_by: null,
        })
        .execute();
      const token = await issueToken(tx, 'invitation', now, { subject: id });
      await queueMail(
        tx,
        ring,
        renderMail(this.deps.appUrl, {
          type: 'invitation',
          to: input.email.trim(),
          orgName: org.name,
          role: input.role,
          token,
        }),
        now,
      );
      await appendAudit(tx, {
        orgId,
        action: 'member.invited',
        actor: { type: 'user', id: actor.userId },
        target: { type: 'invitation', id },
        metadata: {
          role: input.role,
          expiresAt: input.expiresAt?.toISOString() ?? null,
        },
        ip: actor.ip,
        now,
      });
      const invitationExpiresAt = await tx
        .selectFrom('one_time_tokens')
        .select('expires_at')
        .where('token_hash', '=', sha256(token))
        .executeTakeFirstOrThrow();
      return {
        ok: true as const,
        invitation: {
          id,
          email: input.email.trim(),
          role: input.role,
          membershipExpiresAt: input.expiresAt,
          invitationExpiresAt: invitationExpiresAt.expires_at,
        },
      };
    });
  }

  /** The org's pending invitations (not accepted, withdrawn, used or expired), oldest first. */
  async pending(orgId: string, now: Date): Promise<PendingInvitation[]> {
    const rows = await this.#pendingQuery(this.store.db, orgId, now)
      .select([
        'invitations.id',
        'invitations.email',
        'invitations.role',
        'invitations.invited_by',
        'one_time_tokens.expires_at',
      ])
      .orderBy('invitations.created_at')
      .orderBy('invitations.id')
      .execute();
    return rows.map((r) => ({
      id: r.id,
      email: r.email,
      role: r.role,
      invitedBy: r.invited_by,
      expiresAt: r.expires_at,
    }));
  }

  /** Withdraws a pending invitation of this org, audited; false when there is none to withdraw (→ 404). */
  async withdraw(orgId: string, actor: OrgActor, invitationId: string, now: Date): Promise<boolean> {
    return this.store.db.transaction().execute(async (tx) => {
      const pending = await this.#pendingQuery(tx, orgId, now)
        .select(['invitations.id', 'invitations.email', 'invitations.role'])
        .where('invitations.id', '=', invitationId)
        .forUpdate()
        .executeTakeFirst();
      if (!pending) return false;
      await tx
        .updateTable('invitations')
        .set({ revoked_at: now, revoked_reason: 'withdrawn' })
        .where('id', '=', invitationId)
        .execute();
      await appendAudit(tx, {
        orgId,
        action: 'invitation.revoked',
        actor: { type: 'user', id: actor.userId },
        target: { type: 'invitation', id: invitationId },
        metadata: { role: pending.role, reason: 'withdrawn' },
        ip: actor.ip,
        now,
      });
      return true;
    });
  }

  #pendingQuery(db: Tx, orgId: string, now: Date) {
    return db
      .selectFrom('invitations')
      .innerJoin('one_time_tokens', (join) =>
        join
          .on((eb) => eb(eb.cast('invitations.id', 'text'), '=', eb.ref('one_time_tokens.subject')))
          .on('one_time_tokens.purpose', '=', 'invitation'),
      )
      .where('invitations.org_id', '=', orgId)
      .where('invitations.accepted_at', 'is', null)
      .where('invitations.revoked_at', 'is', null)
      .where('one_time_tokens.used_at', 'is', null)
      .where('one_time_tokens.expires_at', '>', now);
  }

  /**
   * Unknown, used or expired tokens, and tokens addressed to another email, all answer 404 alike
   * (the token is not spent on a mismatch, so the invitee can still use it). A user whose email
   * is not verified gets 403 EMAIL_NOT_VERIFIED. On success the caller's session is replaced
   * (SessionService.replace, without sudo) in the same transaction: the presented token stops
   * working and the answer carries the one to use from now on.
   */
  async accept(
    token: string,
    caller: { session: SessionRow; ip: string | null; userAgent: string | null },
    now: Date,
  ): Promise<Result<{ orgId: string; role: OrgRole; token: string; session: SessionRow }>> {
    const user = { id: caller.session.user_id, ip: caller.ip };
    return this.store.db.transaction().execute(async (tx) => {
      const pending = await tx
        .selectFrom('one_time_tokens')
        .innerJoin('invitations', (join) =>
          join.on((eb) => eb(eb.cast('invitations.id', 'text'), '=', eb.ref('one_time_tokens.subject'))),
        )
        .select([
          'invitations.id',
          'invitations.org_id',
          'invitations.email_normalized',
          'invitations.role',
          'invitations.membership_expires_at',
          'invitations.invited_by',
        ])
        .where('invitations.revoked_at', 'is', null)
        .where('one_time_tokens.token_hash', '=', sha256(token))
        .where('one_time_tokens.purpose', '=', 'invitation')
        .where('one_time_tokens.used_at', 'is', null)
        .where('one_time_tokens.expires_at', '>', now)
        .executeTakeFirst();
      if (!pending) return fail('NOT_FOUND', NO_INVITATION);
      const account = await tx
        .selectFrom('users')
        .select(['email_normalized', 'email_verified_at'])
        .where('id', '=', user.id)
        .executeTakeFirstOrThrow();
      if (account.email_normalized !== pending.email_normalized) return fail('NOT_FOUND', NO_INVITATION);
      if (!account.email_verified_at) {
        return fail('EMAIL_NOT_VERIFIED', 'Confirm your email address before accepting an invitation.');
      }
      await this.store.lockOrg(tx, pending.org_id);
      // Removing or demoting the inviter withdraws their invitations; this catches any that slipped
      // through (an inviter who left by expiry): only a current admin or owner's invitation holds.
      const inviter = pending.invited_by
        ? await this.store.membership(tx, pending.org_id, pending.invited_by)
        : null;
      const inviterRole = inviter && membershipActive(inviter.expires_at, now) ? inviter.role : null;
      // The org's SCIM provisioning invites existing accounts with no inviter; its invitations hold
      // until SCIM or an admin withdraws them.
      const viaScim =
        !pending.invited_by &&
        !!(await tx
          .selectFrom('scim_users')
          .select('user_id')
          .where('org_id', '=', pending.org_id)
          .where('invitation_id', '=', pending.id)
          .executeTakeFirst());
      if (!viaScim && !invitationSurvives(inviterRole, pending.role)) return fail('NOT_FOUND', NO_INVITATION);
      const current = await this.store.membership(tx, pending.org_id, user.id);
      if (current && membershipActive(current.expires_at, now)) {
        return fail('CONFLICT', 'You are already a member of this org.');
      }
      // Locked before the first write, so the swap below cannot lose to a concurrent revocation
      // after the invitation is spent.
      const live = await this.deps.sessions.lockLive(tx, caller.session.id);
      if (!live) return fail('UNAUTHENTICATED', 'The session is not valid; sign in again.');
      // The single-use guard: of two concurrent accepts exactly one gets the row.
      if (!(await consumeToken(tx, 'invitation', token, now))) return fail('NOT_FOUND', NO_INVITATION);
      await tx
        .insertInto('memberships')
        .values({
          org_id: pending.org_id,
          user_id: user.id,
          role: pending.role,
          expires_at: pending.membership_expires_at,
          created_at: now,
        })
        .onConflict((oc) =>
          oc.columns(['org_id', 'user_id']).doUpdateSet({
            role: pending.role,
            expires_at: pending.membership_expires_at,
            created_at: now,
          }),
        )
        .execute();
      await tx
        .updateTable('invitations')
        .set({ accepted_at: now, accepted_by: user.id })
        .where('id', '=', pending.id)
        .execute();
      await forgetScimHold(tx, pending.org_id, user.id, now);
      await forgetRemoval(tx, pending.org_id, user.id);
      const replaced = await this.deps.sessions.replace(tx, live, 'privilege_change', {
        ip: caller.ip,
        userAgent: caller.userAgent,
        now,
      });
      if (!replaced.ok) throw new Error('a locked live session could not be replaced');
      await appendAudit(tx, {
        orgId: pending.org_id,
        action: 'member.joined',
        actor: { type: 'user', id: user.id },
        target: { type: 'user', id: user.id },
        metadata: {
          role: pending.role,
          via: 'invitation',
          invitationId: pending.id,
          sessionId: replaced.session.id,
          previousSessionId: live.id,
        },
        ip: user.ip,
        now,
      });
      return {
        ok: true as const,
        orgId: pending.org_id,
        role: pending.role,
        token: replaced.token,
        session: replaced.session,
      };
    });
  }
}
