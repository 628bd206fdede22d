import type { Tx } from '../bus/outbox.js';
import './tables.js';

/**
 * Ends the user's open login challenges (password step done, code step pending). A password reset
 * or change calls it in its transaction: a challenge proved the old password, so whoever holds one
 * must not turn it into a session once that password is gone, whatever code they bring.
 */
export async function endLoginChallenges(tx: Tx, userId: string): Promise<void> {
  await tx.deleteFrom('mfa_challenges').where('user_id', '=', userId).execute();
}
