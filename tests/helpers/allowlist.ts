import type { TestApp } from './app.js';
import type { TestUser } from './orgs.js';

/** Puts every live session of the user in its sudo window (as a password step-up would). */
export async function stepUp(app: TestApp, user: TestUser, minutes = 10): Promise<void> {
  const now = app.runtime.platform.clock.now();
  await app.runtime.platform.db
    .updateTable('sessions')
    .set({ sudo_until: new Date(now.getTime() + minutes * 60_000) })
    .where('user_id', '=', user.userId)
    .where('revoked_at', 'is', null)
    .execute();
}

/** Headers for a request that reaches the app from `ip` behind one trusted proxy (TRUSTED_PROXY_HOPS=1). */
export const from = (ip: string) => ({ 'x-forwarded-for': ip });
