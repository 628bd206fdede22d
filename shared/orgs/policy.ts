import { appendAudit } from '../audit/append.js';
import type { Tx } from '../bus/outbox.js';
import { type Failure, fail, type Result } from '../errors/codes.js';
import type { OrgActor } from './invitations.js';
import type { OrgPolicy } from './model.js';
import { type OrgStore, policyOf } from './store.js';

export type PolicyPatch = Partial<OrgPolicy>;

/** The org's security policy; every change is audited with the whole policy before and after. */
export class PolicyService {
  constructor(private readonly store: OrgStore) {}

  async update(
    orgId: string,
    actor: OrgActor,
    patch: PolicyPatch,
    now: Date,
    /**
     * A condition of the change, checked under the org's row lock before anything is written (a
     * refusal commits nothing), so a concurrent order taking the same lock cannot slip in between.
     */
    precondition?: (tx: Tx, after: OrgPolicy) => Promise<Failure | null>,
  ): Promise<Result<{ policy: OrgPolicy }>> {
    return this.store.db.transaction().execute(async (tx) => {
      const org = await this.store.lockOrg(tx, orgId);
      if (!org) return fail('NOT_FOUND');
      const before = policyOf(org);
      const after: OrgPolicy = { ...before, ...patch };
      const refused = precondition ? await precondition(tx, after) : null;
      if (refused) return refused;
      await tx
        .updateTable('orgs')
        .set({
          max_concurrent_sessions: after.maxConcurrentSessions,
          idle_timeout_minutes: after.idleTimeoutMinutes,
          absolute_timeout_hours: after.absoluteTimeoutHours,
          require_mfa: after.requireMfa,
          enterprise: after.enterprise,
          on_session_limit: after.onLimit,
          enforce_sso: after.enforceSso,
          allow_break_glass: after.allowBreakGlass,
          require_passkey: after.requirePasskey,
          allowed_aaguids: after.allowedAaguids === null ? null : JSON.stringify(after.allowedAaguids),
        })
        .where('id', '=', orgId)
        .execute();
      await appendAudit(tx, {
        orgId,
        action: 'policy.updated',
        actor: { type: 'user', id: actor.userId },
        target: { type: 'org', id: orgId },
        metadata: { before, after },
        ip: actor.ip,
        now,
      });
      return { ok: true as const, policy: after };
    });
  }
}
