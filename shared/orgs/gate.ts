import { type Failure, fail } from '../errors/codes.js';
import type { OrgAccess } from '../http/principal.js';
import { hasMfa } from '../mfa/enrolled.js';
import type { SessionWithUser } from '../sessions/store.js';
import { ssoSatisfied, ssoStartUrl } from '../sso/model.js';
import { isId, membershipActive, sessionAllowedByPolicy } from './model.js';
import type { OrgSessionReach } from './session-reach.js';
import { type OrgStore, policyOf } from './store.js';

/**
 * Decides, on every request, whether a session may act in an org: membership (read from the
 * database each time, so removal and `expires_at` bite on the next request), then the org's own
 * absolute and idle timeouts, judged on the session's activity in this org only (an org-idle
 * session's reach into the org ends), then the org's requireMfa, then — on its first request
 * here — the org's session cap. An SSO-only org admits only sessions its own SSO started (403
 * SSO_REQUIRED with `ssoUrl`). Implements the edge's `OrgGate` (shared/http/auth.ts).
 */
export class OrgMembershipGate {
  constructor(
    private readonly store: OrgStore,
    private readonly reach: OrgSessionReach,
    private readonly appUrl: string,
  ) {}

  async authorizeSession(
    found: SessionWithUser,
    orgId: string,
    context: { ip: string; now: Date },
  ): Promise<{ ok: true; access: OrgAccess } | Failure> {
    if (!isId(orgId)) return fail('NOT_FOUND');
    // A session started for one org (SSO) acts in that org only.
    if (found.session.org_id !== null && found.session.org_id !== orgId) return fail('NOT_FOUND');
    const access = await this.store.accessFor(orgId, found.user.id, found.session.id);
    if (!access) return fail('NOT_FOUND');
    if (!membershipActive(access.expiresAt, context.now)) {
      return fail('INSUFFICIENT_ROLE', 'Your membership in this org has expired; ask an admin to renew it.');
    }
    // SSO-only orgs: checked here, for every kind of session and every org route, not at login.
    if (!ssoSatisfied({ id: orgId, ssoRequired: access.ssoRequired }, found.session.org_id)) {
      return fail('SSO_REQUIRED', undefined, {
        extra: { ssoUrl: ssoStartUrl(this.appUrl, access.org.slug) },
      });
    }
    if (access.activity?.endedAt) {
      return fail('UNAUTHENTICATED', "This session's access to this org has ended; sign in again.", {
        extra: { reason: 'revoked' },
      });
    }
    const verdict = sessionAllowedByPolicy(
      {
        idleTimeoutMinutes: access.org.idle_timeout_minutes,
        absoluteTimeoutHours: access.org.absolute_timeout_hours,
        enterprise: access.org.enterprise,
      },
      {
        createdAt: found.session.created_at,
        // Before its first request here, the session's last request anywhere (as it was before
        // this one): a session abandoned longer than the org allows does not enter it afresh.
        lastActivityAt: access.activity?.lastActivityAt ?? found.session.last_seen_at,
      },
      context.now,
    );
    if (verdict === 'expired') {
      return fail(
        'UNAUTHENTICATED',
        "This session is older than the org's session lifetime; sign in again.",
        {
          extra: { reason: 'expired' },
        },
      );
    }
    if (verdict === 'idle') {
      // Ended for good, not just refused: a session with no activity here yet is judged on its
      // last request anywhere, which personal routes refresh, so a refusal alone could be undone.
      await this.reach.endIdle(found.session, orgId, context);
      return fail(
        'UNAUTHENTICATED',
        "This session was idle in this org longer than the org's idle timeout; sign in again.",
        { extra: { reason: 'expired' } },
      );
    }
    // Asked only of orgs that require MFA, so other orgs pay nothing. Not STEP_UP_REQUIRED: a
    // step-up cannot help someone who has no second factor; they must enrol first.
    if (access.org.require_mfa && !(await hasMfa(this.store.db, found.user.id))) {
      return fail(
        'INSUFFICIENT_ROLE',
        'This org requires multi-factor authentication: turn MFA on for your account first.',
        {
          extra: { requirement: 'mfa' },
        },
      );
    }
    if (access.activity) {
      await this.reach.touch(found.session.id, orgId, access.activity, context.now);
    } else {
      const refused = await this.reach.enter(found.session, access.org, context);
      if (refused) return refused;
    }
    const passkeyPolicy = access.org.require_passkey
      ? { allowedAaguids: policyOf(access.org).allowedAaguids }
      : undefined;
    return { ok: true, access: { orgId, role: access.role, ...(passkeyPolicy ? { passkeyPolicy } : {}) } };
  }
}
