import { appendAudit } from '../audit/append.js';
import { type Failure, fail } from '../errors/codes.js';
import type { SsoStore } from './store.js';

/**
 * Password login by a member of an SSO org: refused when any of their SSO orgs requires SSO,
 * otherwise allowed and recorded as `sso.fallback` in each SSO org's audit chain. Runs only after
 * the password was right, so it tells nothing to someone who does not know it.
 */
export class SsoPasswordPolicy {
  constructor(private readonly store: SsoStore) {}

  async check(userId: string, meta: { ip: string; now: Date }): Promise<Failure | null> {
    const orgs = await this.store.ssoOrgsOf(userId);
    if (orgs.length === 0) return null;
    const requiring = orgs.filter((o) => !o.passwordLoginAllowed);
    await this.store.db.transaction().execute(async (tx) => {
      for (const org of requiring.length > 0 ? requiring : orgs) {
        await appendAudit(tx, {
          orgId: org.orgId,
          action: 'sso.fallback',
          actor: { type: 'user', id: userId },
          target: { type: 'user', id: userId },
          metadata: { reason: 'password_login', outcome: requiring.length > 0 ? 'refused' : 'allowed' },
          ip: meta.ip,
          now: meta.now,
        });
      }
    });
    if (requiring.length > 0) {
      return fail(
        'INVALID_CREDENTIALS',
        'Your organization requires single sign-on; sign in through your identity provider.',
      );
    }
    return null;
  }
}
