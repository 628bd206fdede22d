import { normalizeEmail } from '../accounts/email.js';

/** The TXT record lives on its own label, so verifying never touches the domain's apex records. */
export const DOMAIN_TXT_LABEL = '_sessionforge-verification';
const TXT_PREFIX = 'sessionforge-verification=';

export function txtRecordName(domain: string): string {
  return `${DOMAIN_TXT_LABEL}.${domain}`;
}

export function txtRecordValue(token: string): string {
  return `${TXT_PREFIX}${token}`;
}

/**
 * Whether the TXT answer proves control: one record (its strings joined, as RFC 7208 reads long
 * records) equal to our value. A record that merely contains the value is not enough.
 */
export function txtProves(records: readonly (readonly string[])[], token: string): boolean {
  const expected = txtRecordValue(token);
  return records.some((chunks) => chunks.join('') === expected);
}

/** The domain part of an address, normalized; null when there is none. */
export function emailDomain(email: string): string | null {
  const normalized = normalizeEmail(email);
  const at = normalized.lastIndexOf('@');
  return at > 0 && at < normalized.length - 1 ? normalized.slice(at + 1) : null;
}

export type SignInMethod = 'password' | 'google' | 'github' | string;

/**
 * Whether a first factor may sign in an account of a domain that an org has verified. Without
 * `enforceSso` anything may; with it, only the org's SSO (which never comes through here), except
 * an owner of that org with a password when the org keeps break-glass access.
 */
export function signInVerdict(
  holder: { enforceSso: boolean; allowBreakGlass: boolean },
  firstFactor: SignInMethod,
  isOwner: boolean,
): 'allowed' | 'break_glass' | 'sso_required' {
  if (!holder.enforceSso) return 'allowed';
  if (firstFactor === 'password' && holder.allowBreakGlass && isOwner) return 'break_glass';
  return 'sso_required';
}
