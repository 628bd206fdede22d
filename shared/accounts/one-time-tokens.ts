import type { Tx } from '../bus/outbox.js';
import { randomToken, sha256 } from '../crypto/tokens.js';
import type { OneTimeTokenPurpose } from './tables.js';
import './tables.js';

export const TOKEN_TTL_MS: Record<OneTimeTokenPurpose, number> = {
  'password-reset': 60 * 60 * 1000,
  'verify-email': 24 * 60 * 60 * 1000,
  invitation: 7 * 24 * 60 * 60 * 1000,
  'login-confirmation': 15 * 60 * 1000,
};

/** Issues a 32-byte token; only its SHA-256 is stored. The raw token goes into the mail and nowhere else. */
export async function issueToken(
  tx: Tx,
  purpose: OneTimeTokenPurpose,
  now: Date,
  owner: { userId?: string | null; subject?: string | null },
): Promise<string> {
  const token = randomToken();
  await tx
    .insertInto('one_time_tokens')
    .values({
      token_hash: sha256(token),
      purpose,
      user_id: owner.userId ?? null,
      subject: owner.subject ?? null,
      expires_at: new Date(now.getTime() + TOKEN_TTL_MS[purpose]),
      used_at: null,
    })
    .execute();
  return token;
}

/**
 * Uses a token once. The single UPDATE ... WHERE used_at IS NULL is the whole race guard: of two
 * concurrent uses exactly one sees a row come back. Unknown, used, expired and wrong-purpose
 * tokens all answer null alike.
 */
export async function consumeToken(
  tx: Tx,
  purpose: OneTimeTokenPurpose,
  token: string,
  now: Date,
): Promise<{ userId: string | null; subject: string | null } | null> {
  const row = await tx
    .updateTable('one_time_tokens')
    .set({ used_at: now })
    .where('token_hash', '=', sha256(token))
    .where('purpose', '=', purpose)
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .returning(['user_id', 'subject'])
    .executeTakeFirst();
  return row ? { userId: row.user_id, subject: row.subject } : null;
}

/** Retires every outstanding token of one purpose for a user (a newer one supersedes them). */
export async function retireTokens(
  tx: Tx,
  purpose: OneTimeTokenPurpose,
  userId: string,
  now: Date,
): Promise<void> {
  await tx
    .updateTable('one_time_tokens')
    .set({ used_at: now })
    .where('user_id', '=', userId)
    .where('purpose', '=', purpose)
    .where('used_at', 'is', null)
    .execute();
}
