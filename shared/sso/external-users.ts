import { normalizeEmail } from '../accounts/email.js';
import '../accounts/tables.js';
import type { Tx } from '../bus/outbox.js';
import { fail, type Result } from '../errors/codes.js';

export interface ExternalUser {
  id: string;
  email: string;
  name: string;
  created: boolean;
}

/**
 * A new account with no password for an address nobody has registered, or null when an account
 * (verified or not) already has it: an identity provider's word about an email never reaches an
 * existing account through this function.
 */
export async function createExternalUser(
  tx: Tx,
  identity: { email: string; name: string | null },
  now: Date,
): Promise<{ id: string; email: string; name: string } | null> {
  const name = (identity.name?.trim() || identity.email.split('@')[0] || 'User').slice(0, 200);
  const inserted = await tx
    .insertInto('users')
    .values({
      email: identity.email.trim(),
      email_normalized: normalizeEmail(identity.email),
      name,
      email_verified_at: now,
      disabled_at: null,
    })
    .onConflict((oc) => oc.column('email_normalized').doNothing())
    .returning(['id', 'email', 'name'])
    .executeTakeFirst();
  return inserted ?? null;
}

/**
 * The account an identity provider vouches for (its email verified there): the existing account
 * with that normalized email, or a new one with no password. An existing account whose address
 * we never confirmed is not linked: someone may have registered it to wait for the owner
 * (pre-hijacking), and their password would keep working. Only for Google and GitHub, whose
 * verified email is their own: an org's identity provider asserts what its admin wants, so org
 * SSO uses `createExternalUser` and explicit links.
 */
export async function findOrCreateExternalUser(
  tx: Tx,
  identity: { email: string; name: string | null },
  now: Date,
): Promise<Result<{ user: ExternalUser }>> {
  const emailNormalized = normalizeEmail(identity.email);
  const inserted = await createExternalUser(tx, identity, now);
  if (inserted) return { ok: true, user: { ...inserted, created: true } };
  const existing = await tx
    .selectFrom('users')
    .select(['id', 'email', 'name', 'email_verified_at', 'disabled_at'])
    .where('email_normalized', '=', emailNormalized)
    .executeTakeFirstOrThrow();
  if (existing.disabled_at) return fail('INVALID_CREDENTIALS', 'This account is disabled.');
  if (!existing.email_verified_at) {
    return fail(
      'EMAIL_NOT_VERIFIED',
      'An account with this email exists but its address is not confirmed; confirm it with the link we sent first.',
    );
  }
  return {
    ok: true,
    user: { id: existing.id, email: existing.email, name: existing.name, created: false },
  };
}
