import type { Db } from '../db/connect.js';
import './tables.js';

/**
 * Whether the user has MFA on (a confirmed TOTP credential). A plain function over the database
 * so the orgs gate can ask it for orgs with requireMfa without being wired to the mfa service.
 */
export async function hasMfa(db: Db, userId: string): Promise<boolean> {
  const row = await db
    .selectFrom('mfa_totp')
    .select('user_id')
    .where('user_id', '=', userId)
    .where('confirmed_at', 'is not', null)
    .executeTakeFirst();
  return row !== undefined;
}
