import type { OrgRole } from '../../shared/orgs/model.js';
import type { TestApp } from './app.js';

/** Boot options for org tests: each helper login comes from its own address (X-Forwarded-For), so the per-IP login throttle never trips. */
export const orgTestEnv = { TRUSTED_PROXY_HOPS: '1' };

let counter = 0;

export interface TestUser {
  token: string;
  userId: string;
  email: string;
  password: string;
}

/** A fresh client address per login (needs `orgTestEnv`). */
export function nextIp(): string {
  counter++;
  return `10.${(counter >> 16) & 255}.${(counter >> 8) & 255}.${counter & 255}`;
}

export async function login(app: TestApp, email: string, password: string) {
  return app.request('POST', '/api/login', {
    body: { email, password },
    headers: { 'x-forwarded-for': nextIp() },
  });
}

/** Signs up, verifies and signs in a new user. */
export async function newUser(app: TestApp, label = 'user'): Promise<TestUser> {
  const email = `${label}${++counter}-${Date.now()}@example.com`;
  const password = 'a long enough passphrase 42';
  const signup = await app.request('POST', '/api/accounts/signup', {
    body: { email, password, name: label },
    headers: { 'x-forwarded-for': nextIp() },
  });
  if (signup.status !== 202) throw new Error(`signup failed: ${signup.text}`);
  await app.settle();
  const verify = await app.request('POST', '/api/accounts/verify-email', {
    body: { token: app.tokenFromMail(email, 'verify-email') },
  });
  if (verify.status !== 200) throw new Error(`verify failed: ${verify.text}`);
  const signedIn = await login(app, email, password);
  if (signedIn.status !== 200) throw new Error(`login failed: ${signedIn.text}`);
  return { token: signedIn.body.token, userId: signedIn.body.user.id, email, password };
}

export async function createOrg(app: TestApp, owner: TestUser, slug = `org-${++counter}-${Date.now()}`) {
  const created = await app.request('POST', '/api/orgs', { token: owner.token, body: { name: slug, slug } });
  if (created.status !== 201) throw new Error(`create org failed: ${created.text}`);
  return created.body as { id: string; name: string; slug: string };
}

/** Makes `user` a member directly in the database (set-up only; the invitation flow has its own tests). */
export async function grantMembership(
  app: TestApp,
  orgId: string,
  userId: string,
  role: OrgRole,
  expiresAt: Date | null = null,
): Promise<void> {
  await app.runtime.platform.db
    .insertInto('memberships')
    .values({
      org_id: orgId,
      user_id: userId,
      role,
      expires_at: expiresAt,
      created_at: app.runtime.platform.clock.now(),
    })
    .execute();
}
