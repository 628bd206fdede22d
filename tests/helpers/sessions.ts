import { sql } from 'kysely';
import { helperClient, type TestApp } from './app.js';

let counter = 0;

/** Request headers for a client at `ip` with browser `userAgent` (the app runs with TRUSTED_PROXY_HOPS=1). */
export function client(ip: string, userAgent = 'TestBrowser/1.0'): Record<string, string> {
  return { 'x-forwarded-for': ip, 'user-agent': userAgent };
}

/** Signs up and verifies a user without logging in (so no login slot of any IP is used). */
export async function verifiedUser(
  app: TestApp,
  password = 'a long enough passphrase 42',
): Promise<{ email: string; password: string }> {
  const email = `s${++counter}-${Date.now()}@example.com`;
  const signup = await app.request('POST', '/api/accounts/signup', {
    body: { email, password, name: 'Session Tester' },
    headers: helperClient(),
  });
  if (signup.status !== 202) throw new Error(`signup failed: ${signup.text}`);
  await app.settle();
  const verify = await app.request('POST', '/api/accounts/verify-email', {
    body: { token: app.tokenFromMail(email, 'verify-email') },
    headers: helperClient(),
  });
  if (verify.status !== 200) throw new Error(`verify failed: ${verify.text}`);
  return { email, password };
}

export async function loginFrom(
  app: TestApp,
  user: { email: string; password: string },
  headers: Record<string, string>,
): Promise<{ token: string; sessionId: string; userId: string }> {
  const login = await app.request('POST', '/api/login', {
    body: { email: user.email, password: user.password },
    headers,
  });
  if (login.status !== 200) throw new Error(`login failed: ${login.status} ${login.text}`);
  return { token: login.body.token, sessionId: login.body.session.id, userId: login.body.user.id };
}

/** How many audit rows of `action` a user's chain holds. */
export async function auditCount(app: TestApp, userId: string, action: string): Promise<number> {
  const row = await app.runtime.platform.db
    .selectFrom('audit_logs')
    .select(sql<number>`count(*)::int`.as('n'))
    .where('chain', '=', `user:${userId}`)
    .where('action', '=', action)
    .executeTakeFirstOrThrow();
  return row.n;
}

/** How many session-revoked events the revocations consumer has handled so far. */
export async function revocationEventsHandled(app: TestApp): Promise<number> {
  await app.settle();
  const row = await app.runtime.platform.db
    .selectFrom('processed_events')
    .select(sql<number>`count(*)::int`.as('n'))
    .where('consumer', '=', 'revocations')
    .executeTakeFirstOrThrow();
  return row.n;
}
