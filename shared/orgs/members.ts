import { appendAudit } from '../audit/append.js';
import type { Tx } from '../bus/outbox.js';
import { fail, type Result } from '../errors/codes.js';
import type { SessionService } from '../sessions/service.js';
import type { OrgActor } from './invitations.js';
import { canGrant, canManage, type OrgRole, raisesRole, rank } from './model.js';
import { holdRemoval } from './removals.js';
import type { OrgSessionReach, ReachEndReason } from './session-reach.js';
import type { OrgStore } from './store.js';

const LAST_OWNER = 'An org must keep at least one owner whose membership does not expire.';

/**
 * Role changes and removals. Each runs with the org row locked (FOR UPDATE), so two admins
 * removing the last two owners at once queue up and the second sees only one owner left.
 * Raising a role ends the member's sessions that can act in the org, in the same transaction:
 * their next request needs a fresh login, so no earlier token carries the new role. Lowering a
 * role, removing or leaving ends, in the same transaction, what the member made beyond their new
 * reach: API keys above the new role (all, once gone) and invitations they could not send now.
 */
export class MemberService {
  constructor(
    private readonly store: OrgStore,
    private readonly sessions: SessionService,
    private readonly reach: OrgSessionReach,
  ) {}

  async change(
    orgId: string,
    actor: OrgActor,
    userId: string,
    patch: { role?: OrgRole; expiresAt?: Date | null },
    now: Date,
  ): Promise<Result<{ member: { userId: string; role: OrgRole; expiresAt: Date | null } }>> {
    if (patch.expiresAt && patch.expiresAt.getTime() <= now.getTime()) {
      return fail('VALIDATION_FAILED', 'The request is not valid.', {
        issues: [{ path: 'expiresAt', message: 'must be in the future (remove the member instead)' }],
      });
    }
    return this.store.db.transaction().execute(async (tx) => {
      const target = await this.#lockedTarget(tx, orgId, userId);
      if (!target) return fail('NOT_FOUND', 'No such member.');
      const role = patch.role ?? target.role;
      const expiresAt = patch.expiresAt === undefined ? target.expires_at : patch.expiresAt;
      if (!canManage(actor.role, target.role) || !canGrant(actor.role, role)) {
        return fail('INSUFFICIENT_ROLE', 'Only owners grant, change or revoke the owner role.');
      }
      const staysPermanentOwner = role === 'owner' && expiresAt === null;
      if (
        target.role === 'owner' &&
        target.expires_at === null &&
        !staysPermanentOwner &&
        (await this.store.permanentOwnersOtherThan(tx, orgId, userId)) === 0
      ) {
        return fail('CONFLICT', LAST_OWNER);
      }
      await tx
        .updateTable('memberships')
        .set({ role, expires_at: expiresAt })
        .where('org_id', '=', orgId)
        .where('user_id', '=', userId)
        .execute();
      const revoked = raisesRole(target.role, role)
        ? await this.sessions.revokeAllForUserInOrg(tx, userId, orgId, 'privilege_change', now)
        : [];
      await this.sessions.announceRevoked(tx, revoked, 'privilege_change', now);
      const withdrawn =
        rank(role) < rank(target.role)
          ? await this.store.withdrawBeyondReach(tx, orgId, userId, role, actor.userId, now)
          : {};
      await appendAudit(tx, {
        orgId,
        action: 'member.role_changed',
        actor: { type: 'user', id: actor.userId },
        target: { type: 'user', id: userId },
        metadata: {
          from: target.role,
          to: role,
          before: { role: target.role, expiresAt: target.expires_at?.toISOString() ?? null },
          after: { role, expiresAt: expiresAt?.toISOString() ?? null },
          sessionsRevoked: revoked.length,
          ...withdrawn,
        },
        ip: actor.ip,
        now,
      });
      return { ok: true as const, member: { userId, role, expiresAt } };
    });
  }

  /**
   * Removes a member and, in the same transaction, ends their sessions' reach into this org
   * (sessions bound to it are revoked; personal ones lose the org and keep working elsewhere),
   * their API keys and the invitations they sent.
   */
  async remove(
    orgId: string,
    actor: OrgActor,
    userId: string,
    now: Date,
  ): Promise<Result<{ sessionsRevoked: number }>> {
    return this.store.db.transaction().execute(async (tx) => {
      const target = await this.#lockedTarget(tx, orgId, userId);
      if (!target) return fail('NOT_FOUND', 'No such member.');
      if (!canManage(actor.role, target.role)) {
        return fail('INSUFFICIENT_ROLE', 'Only owners remove an owner.');
      }
      return this.#drop(tx, orgId, target, actor, 'member_removed', now);
    });
  }

  /**
   * The member's own way out, whatever the org's policies say (they govern acting in the org, not
   * leaving it): the same ending as a removal, with the member as the actor. Not a member → 404;
   * the last permanent owner → 409.
   */
  async leave(
    orgId: string,
    member: { userId: string; ip: string | null },
    now: Date,
  ): Promise<Result<{ sessionsRevoked: number }>> {
    return this.store.db.transaction().execute(async (tx) => {
      const target = await this.#lockedTarget(tx, orgId, member.userId);
      if (!target) return fail('NOT_FOUND', 'You are not a member of this org.');
      return this.#drop(tx, orgId, target, { userId: member.userId, ip: member.ip }, 'member_left', now);
    });
  }

  /**
   * An account being deleted leaves every org it is in, inside the deletion's transaction (the
   * caller has checked it is no org's last permanent owner; #drop checks again).
   */
  async dropDeletedAccount(tx: Tx, orgId: string, userId: string, ip: string | null, now: Date) {
    const target = await this.store.membership(tx, orgId, userId);
    if (!target) return fail('NOT_FOUND');
    return this.#drop(tx, orgId, target, { userId, ip }, 'account_deleted', now);
  }

  async #drop(
    tx: Tx,
    orgId: string,
    target: { user_id: string; role: OrgRole; expires_at: Date | null },
    actor: { userId: string; ip: string | null },
    reason: Extract<ReachEndReason, 'member_removed' | 'member_left' | 'account_deleted'>,
    now: Date,
  ): Promise<Result<{ sessionsRevoked: number }>> {
    const userId = target.user_id;
    if (
      target.role === 'owner' &&
      target.expires_at === null &&
      (await this.store.permanentOwnersOtherThan(tx, orgId, userId)) === 0
    ) {
      return fail('CONFLICT', LAST_OWNER);
    }
    await tx.deleteFrom('memberships').where('org_id', '=', orgId).where('user_id', '=', userId).execute();
    const sessions = await this.reach.endAllOfUser(tx, userId, orgId, reason, now);
    const withdrawn = await this.store.withdrawBeyondReach(tx, orgId, userId, null, actor.userId, now);
    if (reason === 'member_removed' && actor.userId !== userId) {
      await holdRemoval(tx, orgId, userId, actor.userId, now);
    }
    await appendAudit(tx, {
      orgId,
      action: 'member.removed',
      actor: { type: 'user', id: actor.userId },
      target: { type: 'user', id: userId },
      metadata: {
        role: target.role,
        ...(reason === 'member_left' ? { reason: 'left' } : {}),
        ...(reason === 'account_deleted' ? { reason: 'account_deleted' } : {}),
        sessionsRevoked: sessions.revoked,
        sessionsCutOff: sessions.cutOff,
        ...withdrawn,
      },
      ip: actor.ip,
      now,
    });
    return { ok: true as const, sessionsRevoked: sessions.revoked };
  }

  async #lockedTarget(tx: Tx, orgId: string, userId: string) {
    const org = await this.store.lockOrg(tx, orgId);
    // A deleted org has no members to change or lose until it is restored.
    if (!org || org.deleted_at) return null;
    return this.store.membership(tx, orgId, userId);
  }
}
