import { sql } from 'kysely';
import { appendAudit } from '../audit/append.js';
import type { Tx } from '../bus/outbox.js';
import { fail, type Result } from '../errors/codes.js';
import { DAY_MS } from '../time/clock.js';
import { deletionState, purgeDue } from './lifecycle.js';
import type { OrgSessionReach } from './session-reach.js';
import type { OrgStore } from './store.js';
import '../allowlist/tables.js';
import '../keys/tables.js';
import '../scim/tables.js';
import '../sso/tables.js';
import '../webhooks/tables.js';

/**
 * The org's credentials that stop the moment the org is deleted, in the deletion's transaction.
 * Each returns the ids it stopped (listed in the `org.deletion_requested` audit row). Stopped
 * credentials stay stopped after a restore: the owner issues new ones. A new kind of org
 * credential (SCIM tokens, webhook secrets) joins this list.
 */
export const orgCredentialsToStop: Record<
  string,
  (tx: Tx, orgId: string, by: string, now: Date) => Promise<string[]>
> = {
  apiKeys: async (tx, orgId, by, now) =>
    (
      await tx
        .updateTable('api_keys')
        .set({ revoked_at: now, revoked_by: by })
        .where('org_id', '=', orgId)
        .where('revoked_at', 'is', null)
        .returning('id')
        .execute()
    ).map((r) => r.id),
  scimTokens: async (tx, orgId, by, now) =>
    (
      await tx
        .updateTable('scim_tokens')
        .set({ revoked_at: now, revoked_by: by })
        .where('org_id', '=', orgId)
        .where('revoked_at', 'is', null)
        .returning('id')
        .execute()
    ).map((r) => r.id),
  // Nothing more leaves for the org's endpoints, queued deliveries included (the deliverer claims
  // only for enabled endpoints).
  webhooks: async (tx, orgId, _by, now) =>
    (
      await tx
        .updateTable('webhook_endpoints')
        .set({ enabled: false, disabled_reason: 'org_deleted', updated_at: now })
        .where('org_id', '=', orgId)
        .where('enabled', '=', true)
        .returning('id')
        .execute()
    ).map((r) => r.id),
  invitations: async (tx, orgId, _by, now) =>
    (
      await tx
        .updateTable('invitations')
        .set({ revoked_at: now, revoked_reason: 'org_deleted' })
        .where('org_id', '=', orgId)
        .where('accepted_at', 'is', null)
        .where('revoked_at', 'is', null)
        .returning('id')
        .execute()
    ).map((r) => r.id),
};

/**
 * What the purge deletes, in order, in one transaction per org; each returns how many rows went.
 * Recordings are not here: their objects live in the recordings bucket, which only the archive
 * unit may touch, so its hourly sweep deletes the recordings of purged orgs (shared/recordings/sweep.ts).
 * A new kind of org data joins this list.
 */
export const orgDataToPurge: Record<string, (tx: Tx, orgId: string) => Promise<number>> = {
  invitationTokens: async (tx, orgId) =>
    count(
      await tx
        .deleteFrom('one_time_tokens')
        .where('purpose', '=', 'invitation')
        .where(
          'subject',
          'in',
          tx.selectFrom('invitations').select(sql<string>`id::text`.as('id')).where('org_id', '=', orgId),
        )
        .executeTakeFirst(),
    ),
  // Before invitations: its rows point at them.
  scimUsers: async (tx, orgId) =>
    count(await tx.deleteFrom('scim_users').where('org_id', '=', orgId).executeTakeFirst()),
  scimTokens: async (tx, orgId) =>
    count(await tx.deleteFrom('scim_tokens').where('org_id', '=', orgId).executeTakeFirst()),
  invitations: async (tx, orgId) =>
    count(await tx.deleteFrom('invitations').where('org_id', '=', orgId).executeTakeFirst()),
  memberships: async (tx, orgId) =>
    count(await tx.deleteFrom('memberships').where('org_id', '=', orgId).executeTakeFirst()),
  removals: async (tx, orgId) =>
    count(await tx.deleteFrom('org_removals').where('org_id', '=', orgId).executeTakeFirst()),
  sessionActivity: async (tx, orgId) =>
    count(await tx.deleteFrom('session_org_activity').where('org_id', '=', orgId).executeTakeFirst()),
  apiKeys: async (tx, orgId) =>
    count(await tx.deleteFrom('api_keys').where('org_id', '=', orgId).executeTakeFirst()),
  ipAllowlists: async (tx, orgId) =>
    count(await tx.deleteFrom('ip_allowlists').where('org_id', '=', orgId).executeTakeFirst()),
  ssoIdentities: async (tx, orgId) =>
    count(await tx.deleteFrom('sso_identities').where('org_id', '=', orgId).executeTakeFirst()),
  webhookDeliveries: async (tx, orgId) =>
    count(await tx.deleteFrom('webhook_deliveries').where('org_id', '=', orgId).executeTakeFirst()),
  webhookEndpoints: async (tx, orgId) =>
    count(await tx.deleteFrom('webhook_endpoints').where('org_id', '=', orgId).executeTakeFirst()),
  ssoSettings: async (tx, orgId) =>
    count(await tx.deleteFrom('org_sso_configs').where('org_id', '=', orgId).executeTakeFirst()),
};

function count(result: { numDeletedRows: bigint }): number {
  return Number(result.numDeletedRows);
}

export interface AuditChainExpiry {
  expired: Array<{ orgId: string; rowsDeleted: number }>;
  declined: string[];
}

/** At most this many orgs per sweep, so one run stays well inside its deadline. */
const PURGE_BATCH = 20;

/**
 * Deleting an org (owner, step-up, the slug typed back), restoring it within the grace period, and
 * the purge after it. From deletion on the org is 404 for everyone (the gate, the org list and
 * SSO filter on `deleted_at`); sessions bound to it are revoked and every member's personal
 * sessions lose it, its credentials stop (orgCredentialsToStop). The purge closes the audit
 * chain with `org.deleted`; the next hourly checkpoint signs that final head.
 */
export class OrgDeletion {
  constructor(
    private readonly store: OrgStore,
    private readonly reach: OrgSessionReach,
    private readonly settings: { graceDays: number; auditRetentionDays: number },
  ) {}

  async delete(
    orgId: string,
    actor: { userId: string; ip: string | null },
    confirmSlug: string,
    now: Date,
  ): Promise<Result<{ purgeAfter: Date }>> {
    return this.store.db.transaction().execute(async (tx) => {
      const org = await this.store.lockOrg(tx, orgId);
      if (!org || deletionState(org, now) !== 'live') return fail('NOT_FOUND');
      if (confirmSlug !== org.slug) {
        return fail('VALIDATION_FAILED', 'Type the org slug to confirm the deletion.', {
          issues: [{ path: 'confirmSlug', message: "must equal the org's slug" }],
        });
      }
      const purgeAfter = new Date(now.getTime() + this.settings.graceDays * DAY_MS);
      await tx
        .updateTable('orgs')
        .set({ deleted_at: now, deleted_by: actor.userId, purge_after: purgeAfter })
        .where('id', '=', orgId)
        .execute();
      const members = await tx
        .selectFrom('memberships')
        .select('user_id')
        .where('org_id', '=', orgId)
        .execute();
      let sessionsRevoked = 0;
      let sessionsCutOff = 0;
      for (const member of members) {
        const ended = await this.reach.endAllOfUser(tx, member.user_id, orgId, 'org_deleted', now);
        sessionsRevoked += ended.revoked;
        sessionsCutOff += ended.cutOff;
      }
      const stopped: Record<string, string[]> = {};
      for (const [kind, stop] of Object.entries(orgCredentialsToStop)) {
        stopped[kind] = await stop(tx, orgId, actor.userId, now);
      }
      await appendAudit(tx, {
        orgId,
        action: 'org.deletion_requested',
        actor: { type: 'user', id: actor.userId },
        target: { type: 'org', id: orgId },
        metadata: { purgeAfter: purgeAfter.toISOString(), sessionsRevoked, sessionsCutOff, stopped },
        ip: actor.ip,
        now,
      });
      return { ok: true as const, purgeAfter };
    });
  }

  /**
   * Undoes a deletion before its purge: an owner of the deleted org only (anyone else: 404, as
   * for any org they cannot see). Stopped credentials and ended sessions stay ended.
   */
  async restore(
    orgId: string,
    actor: { userId: string; ip: string | null },
    now: Date,
  ): Promise<Result<{ org: { id: string; name: string; slug: string } }>> {
    return this.store.db.transaction().execute(async (tx) => {
      const org = await this.store.lockOrg(tx, orgId);
      const member = org ? await this.store.membership(tx, orgId, actor.userId) : null;
      if (!org || member?.role !== 'owner') return fail('NOT_FOUND');
      const state = deletionState(org, now);
      if (state === 'live') return fail('CONFLICT', 'This org is not deleted.');
      if (state !== 'restorable') {
        return fail('CONFLICT', 'The grace period is over; the org is being purged and cannot be restored.');
      }
      await tx
        .updateTable('orgs')
        .set({ deleted_at: null, deleted_by: null, purge_after: null })
        .where('id', '=', orgId)
        .execute();
      await appendAudit(tx, {
        orgId,
        action: 'org.restored',
        actor: { type: 'user', id: actor.userId },
        target: { type: 'org', id: orgId },
        metadata: { deletedAt: org.deleted_at?.toISOString() ?? null },
        ip: actor.ip,
        now,
      });
      return { ok: true as const, org: { id: org.id, name: org.name, slug: org.slug } };
    });
  }

  /** The maintenance sweep's part: purges orgs past their grace period; returns their ids. */
  async purgeDue(now: Date): Promise<string[]> {
    const due = await this.store.db
      .selectFrom('orgs')
      .select('id')
      .where('purge_after', '<=', now)
      .where('purged_at', 'is', null)
      .orderBy('purge_after')
      .limit(PURGE_BATCH)
      .execute();
    const purged: string[] = [];
    for (const { id } of due) {
      if (await this.#purge(id, now)) purged.push(id);
    }
    return purged;
  }

  /**
   * The maintenance sweep's last part: deletes the closed audit chains of orgs purged more than
   * AUDIT_RETENTION_DAYS ago, with their heads and checkpoint bookkeeping, through the database's
   * purge_expired_audit_chain (migration 0055), which re-checks that each chain is closed, quiet
   * and old enough and writes the purge log. Returns the chains that went, and the org ids whose
   * chain the database declined (not closed by the purge, or not yet old by its own clock).
   */
  async expireAuditChains(now: Date): Promise<AuditChainExpiry> {
    // Whether the chain's head row is the purge's own org.deleted row (what the database checks
    // first): the due orgs whose chain is not closed are only reported, never tried, so however
    // many there are they cannot fill every batch and keep the closed ones behind them for good.
    const closedByPurge = sql<boolean>`exists (
      select 1 from audit_chain_heads h
      join audit_logs l on l.chain = h.chain and l.seq = h.seq
      where h.chain = 'org:' || orgs.id::text and l.action = 'org.deleted' and l.actor_type = 'system')`;
    const dueOrgs = (closed: boolean) =>
      this.store.db
        .selectFrom('orgs')
        .select('id')
        .where('purged_at', 'is not', null)
        .where('audit_expires_at', '<=', now)
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom('audit_chain_purges')
                .select('chain')
                .whereRef('audit_chain_purges.org_id', '=', 'orgs.id'),
            ),
          ),
        )
        .where(closed ? closedByPurge : sql<boolean>`not ${closedByPurge}`)
        .orderBy('audit_expires_at')
        .limit(PURGE_BATCH)
        .execute();
    const due = await dueOrgs(true);
    const expired: AuditChainExpiry['expired'] = [];
    const declined: string[] = [];
    for (const { id } of due) {
      const result = await sql<{ rows: number | string | null }>`
        select purge_expired_audit_chain(${id}::uuid, ${this.settings.auditRetentionDays}::int, ${now}::timestamptz) as rows`.execute(
        this.store.db,
      );
      const rows = result.rows[0]?.rows;
      if (rows !== null && rows !== undefined) expired.push({ orgId: id, rowsDeleted: Number(rows) });
      else declined.push(id);
    }
    for (const { id } of await dueOrgs(false)) declined.push(id);
    return { expired, declined };
  }

  async #purge(orgId: string, now: Date): Promise<boolean> {
    return this.store.db.transaction().execute(async (tx) => {
      const org = await this.store.lockOrg(tx, orgId);
      // Restored (or purged) since the list was read: nothing to do.
      if (!org || !purgeDue(org, now)) return false;
      const purged: Record<string, number> = {};
      for (const [kind, purge] of Object.entries(orgDataToPurge)) purged[kind] = await purge(tx, orgId);
      // The tombstone keeps the id (audit rows, checkpoints) but neither the name nor the slug,
      // which becomes free for a new org.
      await tx
        .updateTable('orgs')
        .set({
          name: '',
          slug: `deleted-${orgId}`,
          purged_at: now,
          audit_expires_at: new Date(now.getTime() + this.settings.auditRetentionDays * DAY_MS),
        })
        .where('id', '=', orgId)
        .execute();
      await appendAudit(tx, {
        orgId,
        action: 'org.deleted',
        actor: { type: 'system', id: null },
        target: { type: 'org', id: orgId },
        metadata: { deletedAt: (org.deleted_at ?? now).toISOString(), purged },
        now,
      });
      return true;
    });
  }
}
