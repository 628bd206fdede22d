import { appendAudit } from '../audit/append.js';
import type { Tx } from '../bus/outbox.js';
import type { Db } from '../db/connect.js';
import { fail, type Result } from '../errors/codes.js';
import type { MemberService } from '../orgs/members.js';
import type { OrgStore } from '../orgs/store.js';
import type { SessionService } from '../sessions/service.js';
import './tables.js';
import '../mfa/tables.js';
import '../orgs/tables.js';
import '../scim/tables.js';
import '../sessions/tables.js';
import '../sso/tables.js';

/**
 * What a deleted account loses, in the deletion's transaction: every credential and second
 * factor, its devices, pending tokens and provider links. Returns how many rows went. A new kind
 * of personal credential (passkeys) joins this list.
 */
export const accountDataToDelete: Record<string, (tx: Tx, userId: string) => Promise<number>> = {
  password: async (tx, userId) =>
    count(await tx.deleteFrom('password_credentials').where('user_id', '=', userId).executeTakeFirst()),
  totp: async (tx, userId) =>
    count(await tx.deleteFrom('mfa_totp').where('user_id', '=', userId).executeTakeFirst()),
  backupCodes: async (tx, userId) =>
    count(await tx.deleteFrom('mfa_backup_codes').where('user_id', '=', userId).executeTakeFirst()),
  mfaChallenges: async (tx, userId) =>
    count(await tx.deleteFrom('mfa_challenges').where('user_id', '=', userId).executeTakeFirst()),
  oneTimeTokens: async (tx, userId) =>
    count(await tx.deleteFrom('one_time_tokens').where('user_id', '=', userId).executeTakeFirst()),
  passkeys: async (tx, userId) =>
    count(await tx.deleteFrom('passkey_credentials').where('user_id', '=', userId).executeTakeFirst()),
  passkeyChallenges: async (tx, userId) =>
    count(await tx.deleteFrom('passkey_challenges').where('user_id', '=', userId).executeTakeFirst()),
  // What orgs' identity providers knew of the person (externalId, a suspension): a deleted account
  // is no SCIM User anywhere, and no SCIM re-activation can bring a tombstone back into an org.
  scimUsers: async (tx, userId) =>
    count(await tx.deleteFrom('scim_users').where('user_id', '=', userId).executeTakeFirst()),
  orgRemovals: async (tx, userId) =>
    count(await tx.deleteFrom('org_removals').where('user_id', '=', userId).executeTakeFirst()),
  ssoIdentities: async (tx, userId) =>
    count(await tx.deleteFrom('sso_identities').where('user_id', '=', userId).executeTakeFirst()),
  // Sessions go after they were revoked and announced (their ip and user agent are personal data);
  // devices after the sessions that point at them.
  sessions: async (tx, userId) =>
    count(await tx.deleteFrom('sessions').where('user_id', '=', userId).executeTakeFirst()),
  devices: async (tx, userId) =>
    count(await tx.deleteFrom('known_devices').where('user_id', '=', userId).executeTakeFirst()),
};

function count(result: { numDeletedRows: bigint }): number {
  return Number(result.numDeletedRows);
}

/** The address a deleted account's row keeps: unique, undeliverable (RFC 6761 `.invalid`), no trace of the old one. */
export const erasedEmail = (userId: string) => `deleted-${userId}@deleted.invalid`;

/**
 * Deleting one's own account (step-up at the edge). Refused while the person is the last
 * permanent owner of a live org (409 naming those orgs: hand them over or delete them first).
 * Otherwise, in one transaction: the person leaves every org (as a removal would: their keys and
 * invitations there stop), every session is revoked and announced, credentials, MFA, devices and
 * tokens are deleted, and the row becomes a tombstone: email and name erased, the id kept so
 * audit rows that name it stay meaningful. The account chain ends with `account.deleted`.
 */
export class AccountDeletion {
  constructor(
    private readonly deps: { db: Db; sessions: SessionService; orgStore: OrgStore; members: MemberService },
  ) {}

  async delete(
    userId: string,
    meta: { ip: string | null; now: Date },
  ): Promise<Result<{ sessionsRevoked: number }>> {
    const { now } = meta;
    return this.deps.db.transaction().execute(async (tx) => {
      const user = await tx
        .selectFrom('users')
        .select(['id', 'deleted_at'])
        .where('id', '=', userId)
        .forUpdate()
        .executeTakeFirst();
      if (!user || user.deleted_at) return fail('NOT_FOUND');
      const memberships = await tx
        .selectFrom('memberships')
        .innerJoin('orgs', 'orgs.id', 'memberships.org_id')
        .select(['orgs.id', 'orgs.slug', 'orgs.deleted_at', 'memberships.role', 'memberships.expires_at'])
        .where('memberships.user_id', '=', userId)
        .orderBy('orgs.id')
        .execute();
      const lastOwnerOf: Array<{ id: string; slug: string }> = [];
      for (const m of memberships) {
        // Locked in id order, so two deletions touching the same orgs queue instead of deadlocking.
        await this.deps.orgStore.lockOrg(tx, m.id);
        const permanentOwner = m.role === 'owner' && m.expires_at === null;
        if (
          permanentOwner &&
          !m.deleted_at &&
          (await this.deps.orgStore.permanentOwnersOtherThan(tx, m.id, userId)) === 0
        ) {
          lastOwnerOf.push({ id: m.id, slug: m.slug });
        }
      }
      if (lastOwnerOf.length > 0) {
        return fail(
          'CONFLICT',
          `You are the last owner of ${lastOwnerOf.map((o) => o.slug).join(', ')}: make someone else an owner or delete the org first.`,
          { extra: { orgs: lastOwnerOf } },
        );
      }
      for (const m of memberships) {
        if (m.deleted_at) {
          await tx
            .deleteFrom('memberships')
            .where('org_id', '=', m.id)
            .where('user_id', '=', userId)
            .execute();
        } else {
          const dropped = await this.deps.members.dropDeletedAccount(tx, m.id, userId, meta.ip, now);
          if (!dropped.ok) throw new Error(`leaving org ${m.id} failed: ${dropped.code}`);
        }
      }
      const revoked = await this.deps.sessions.revokeAllForUser(tx, userId, 'account_deleted', now);
      await this.deps.sessions.announceRevoked(tx, revoked, 'account_deleted', now);
      for (const remove of Object.values(accountDataToDelete)) await remove(tx, userId);
      const email = erasedEmail(userId);
      await tx
        .updateTable('users')
        .set({
          email,
          email_normalized: email,
          name: '',
          email_verified_at: null,
          disabled_at: now,
          deleted_at: now,
        })
        .where('id', '=', userId)
        .execute();
      await appendAudit(tx, {
        userId,
        action: 'account.deleted',
        actor: { type: 'user', id: userId },
        target: { type: 'user', id: userId },
        metadata: { sessionsRevoked: revoked.length },
        ip: meta.ip,
        now,
      });
      return { ok: true as const, sessionsRevoked: revoked.length };
    });
  }
}
