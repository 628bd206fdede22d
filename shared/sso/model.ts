import { normalizeEmail } from '../accounts/email.js';

/** How long a started SSO login may take before its state cookie is refused. */
export const SSO_STATE_TTL_SECONDS = 600;

const DOMAIN_PATTERN = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

export function isDomain(value: string): boolean {
  return DOMAIN_PATTERN.test(value);
}

/** The email's domain is exactly one of the allowed domains (no suffix matching: `evil-acme.com` ≠ `acme.com`). */
export function emailDomainAllowed(email: string, allowedDomains: readonly string[]): boolean {
  const normalized = normalizeEmail(email);
  const at = normalized.lastIndexOf('@');
  if (at <= 0) return false;
  const domain = normalized.slice(at + 1);
  return allowedDomains.includes(domain);
}

/**
 * Where to send the browser after login: `returnTo` only when its origin is one of the configured
 * app origins (absolute http(s) URLs only; `//evil.com` and `javascript:` are not), else refused.
 * Absent → APP_URL.
 */
export function safeReturnTo(
  returnTo: string | undefined,
  appOrigins: readonly string[],
  appUrl: string,
): { ok: true; url: string } | { ok: false } {
  if (returnTo === undefined || returnTo === '') return { ok: true, url: `${appUrl}/` };
  let parsed: URL;
  try {
    parsed = new URL(returnTo);
  } catch {
    return { ok: false };
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return { ok: false };
  if (parsed.username || parsed.password) return { ok: false };
  if (!appOrigins.includes(parsed.origin)) return { ok: false };
  return { ok: true, url: parsed.href };
}

/** Loopback issuers may speak plain http (local runs and tests); every other issuer must be https. */
export function issuerAllowed(issuerUrl: string, allowLoopbackHttp: boolean): boolean {
  let parsed: URL;
  try {
    parsed = new URL(issuerUrl);
  } catch {
    return false;
  }
  if (parsed.username || parsed.password || parsed.search || parsed.hash) return false;
  if (parsed.protocol === 'https:') return true;
  return (
    allowLoopbackHttp &&
    parsed.protocol === 'http:' &&
    (parsed.hostname === '127.0.0.1' || parsed.hostname === 'localhost' || parsed.hostname === '[::1]')
  );
}

/**
 * A link finishes only in the session that started it (named in the signed state cookie), still
 * live and of the same user: a provider answer carried to another browser or session links nothing.
 */
export function linkerMatches(
  started: { userId: string; sessionId: string },
  current: { userId: string; sessionId: string } | null,
): boolean {
  return current !== null && current.sessionId === started.sessionId && current.userId === started.userId;
}

/**
 * "This org needs SSO": an org whose SSO settings refuse other sign-ins admits only sessions its
 * own SSO started (bound to it), whatever started the others (password, Google, GitHub, another
 * org's SSO). Every other org admits any session of a member.
 */
export function ssoSatisfied(org: { id: string; ssoRequired: boolean }, boundOrgId: string | null): boolean {
  return !org.ssoRequired || boundOrgId === org.id;
}

/** Where a refused session goes to sign in to the org through its SSO. */
export function ssoStartUrl(appUrl: string, orgSlug: string): string {
  return `${appUrl}/api/login/sso/${encodeURIComponent(orgSlug)}`;
}
