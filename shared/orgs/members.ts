import { appendAudit } from '../audit/append.js';
import type { Tx } from '../bus/outbox.js';
import { fail, type Result } from '../errors/codes.js';
import type { SessionService } from '../sessions/service.js';
import type { OrgActor } from './invitations.js';
import { canGrant, canManage, type OrgRole, raisesRole } from './model.js';
import type { OrgStore } from './store.js';

const LAST_OWNER = 'An org must keep at least one owner whose membership does not expire.';

/**
 * Role changes and removals. Each runs with the org row locked (FOR UPDATE), so two admins
 * removing the last two owners at once queue up and the second sees only one owner left.
 * Raising a role ends the member's sessions that can act in the org, in the same transaction:
 * their next request needs a fresh login, so no earlier token carries the new role.
 */
export class MemberService {
  constructor(
    private readonly store: OrgStore,
    private readonly sessions: SessionService,
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
        },
        ip: actor.ip,
        now,
      });
      return { ok: true as const, member: { userId, role, expiresAt } };
    });
  }

  /**
   * Removes a member and, in the same transaction, revokes their sessions bound to this org.
   * Their personal sessions stay, but lose the org at once: membership is read on every request.
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
      if (
        target.role === 'owner' &&
        target.expires_at === null &&
        (await this.store.permanentOwnersOtherThan(tx, orgId, userId)) === 0
      ) {
        return fail('CONFLICT', LAST_OWNER);
      }
      await tx.deleteFrom('memberships').where('org_id', '=', orgId).where('user_id', '=', userId).execute();
      const revoked = [];
      for (const sessionId of await this.store.liveSessionIdsBoundTo(tx, userId, orgId)) {
        revoked.push(...(await this.sessions.revokeById(tx, sessionId, 'member_removed', now)));
      }
      await this.sessions.announceRevoked(tx, revoked, 'member_removed', now);
      await appendAudit(tx, {
        orgId,
        action: 'member.removed',
        actor: { type: 'user', id: actor.userId },
        target: { type: 'user', id: userId },
        metadata: { role: target.role, sessionsRevoked: revoked.length },
        ip: actor.ip,
        now,
      });
      return { ok: true as const, sessionsRevoked: revoked.length };
    });
  }

  async #lockedTarget(tx: Tx, orgId: string, userId: string) {
    if (!(await this.store.lockOrg(tx, orgId))) return null;
    return this.store.membership(tx, orgId, userId);
  }
}
