import { randomUUID } from 'node:crypto';
import { appendAudit } from '../audit/append.js';
import { fail, type Result } from '../errors/codes.js';
import type { OrgRole } from './model.js';
import { type MemberRow, type OrgStore, policyOf } from './store.js';

export interface OrgSummary {
  id: string;
  name: string;
  slug: string;
}

/** Creating orgs and reading who belongs where. */
export class OrgDirectory {
  constructor(private readonly store: OrgStore) {}

  /** The creator becomes the first owner, in the same transaction as the org and its audit row. */
  async create(
    input: { name: string; slug: string },
    creator: { userId: string; ip: string | null },
    now: Date,
  ): Promise<Result<{ org: OrgSummary }>> {
    return this.store.db.transaction().execute(async (tx) => {
      const id = randomUUID();
      const created = await tx
        .insertInto('orgs')
        .values({
          id,
          name: input.name,
          slug: input.slug,
          enterprise: false,
          max_concurrent_sessions: null,
          idle_timeout_minutes: null,
          absolute_timeout_hours: null,
          require_mfa: false,
          on_session_limit: 'revoke_oldest',
          enforce_sso: false,
          allow_break_glass: false,
          created_at: now,
        })
        .onConflict((oc) => oc.column('slug').doNothing())
        .returning(['id', 'name', 'slug'])
        .executeTakeFirst();
      if (!created) return fail('CONFLICT', 'That slug is taken; choose another.');
      await tx
        .insertInto('memberships')
        .values({ org_id: id, user_id: creator.userId, role: 'owner', expires_at: null, created_at: now })
        .execute();
      await appendAudit(tx, {
        orgId: id,
        action: 'member.joined',
        actor: { type: 'user', id: creator.userId },
        target: { type: 'user', id: creator.userId },
        metadata: { role: 'owner', via: 'org_created', slug: input.slug },
        ip: creator.ip,
        now,
      });
      return { ok: true as const, org: created };
    });
  }

  async orgsOf(
    userId: string,
    now: Date,
  ): Promise<Array<OrgSummary & { role: OrgRole; expiresAt: Date | null }>> {
    const rows = await this.store.orgsOf(userId, now);
    return rows.map((r) => ({ id: r.id, name: r.name, slug: r.slug, role: r.role, expiresAt: r.expires_at }));
  }

  members(orgId: string): Promise<MemberRow[]> {
    return this.store.members(orgId);
  }

  async policy(orgId: string) {
    const org = await this.store.db.selectFrom('orgs').selectAll().where('id', '=', orgId).executeTakeFirst();
    return org ? policyOf(org) : null;
  }
}
