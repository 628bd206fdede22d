import type { ClientMeta } from '../accounts/login.js';
import { appendAudit } from '../audit/append.js';
import { fail, type Result } from '../errors/codes.js';
import type { DomainStore } from './domain-store.js';
import { emailDomain, signInVerdict } from './domains-model.js';
import { ssoStartUrl } from './model.js';

/**
 * "Everyone at corp.example signs in through our IdP": after a first factor (password, Google,
 * GitHub) has proven who the person is, an account of a domain verified by an org with
 * `enforceSso` is sent to that org's SSO (403 SSO_REQUIRED with `ssoUrl`). Checked after the
 * credential so the answer says nothing to someone who does not know the password. An owner of
 * that org keeps a password way in when it allows break-glass; each use is an `sso.fallback` row.
 */
export class SsoEnforcement {
  constructor(private readonly deps: { domains: DomainStore; appUrl: string }) {}

  async check(
    user: { id: string; email: string },
    firstFactor: string,
    meta: ClientMeta,
  ): Promise<Result<Record<never, never>>> {
    const domain = emailDomain(user.email);
    const holder = domain ? await this.deps.domains.holder(domain) : null;
    if (!holder?.enforceSso) return { ok: true };
    const isOwner = await this.deps.domains.isOwner(holder.orgId, user.id);
    const verdict = signInVerdict(holder, firstFactor, isOwner);
    if (verdict === 'break_glass') {
      await this.deps.domains.db.transaction().execute((tx) =>
        appendAudit(tx, {
          orgId: holder.orgId,
          action: 'sso.fallback',
          actor: { type: 'user', id: user.id },
          target: { type: 'user', id: user.id },
          metadata: { reason: 'break_glass', method: firstFactor },
          ip: meta.ip,
          now: meta.now,
        }),
      );
      return { ok: true };
    }
    if (verdict === 'sso_required') {
      return fail(
        'SSO_REQUIRED',
        `Accounts at ${domain} sign in through their organization's single sign-on.`,
        {
          extra: { ssoUrl: ssoStartUrl(this.deps.appUrl, holder.orgSlug) },
        },
      );
    }
    return { ok: true };
  }
}
