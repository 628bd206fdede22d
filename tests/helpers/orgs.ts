import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { issueToken } from '../../shared/accounts/one-time-tokens.js';
import { randomToken } from '../../shared/crypto/tokens.js';
import '../../shared/audit/tables.js';
import type { OrgRole } from '../../shared/orgs/model.js';
import '../../shared/orgs/tables.js';
import { sessionTokenHash } from '../../shared/sessions/model.js';
import '../../shared/sessions/tables.js';
import { makeEnvelope } from '../../shared/bus/envelope.js';
import type { Topic } from '../../shared/bus/topics.js';
import type { Clock } from '../../shared/time/clock.js';
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
    headers: { 'x-forwarded-for': nextIp() },
  });
  if (verify.status !== 200) throw new Error(`verify failed: ${verify.text}`);
  const signedIn = await login(app, email, password);
  if (signedIn.status !== 200) throw new Error(`login failed: ${signedIn.text}`);
  return { token: signedIn.body.token, userId: signedIn.body.user.id, email, password };
}

/** Signs up and signs in a new user who already is a member of `orgId` with `role`. */
export async function newMember(app: TestApp, orgId: string, role: OrgRole, label: string = role) {
  const user = await newUser(app, label);
  await grantMembership(app, orgId, user.userId, role);
  return user;
}

/** A second session of `user`, stepped up with the password (the user's own token stays as it is). */
export async function sudoToken(app: TestApp, user: TestUser): Promise<string> {
  const fresh = await login(app, user.email, user.password);
  const stepped = await app.request('POST', '/api/sessions/step-up', {
    token: fresh.body.token,
    body: { password: user.password },
    headers: { 'x-forwarded-for': nextIp() },
  });
  expect(stepped.status, stepped.text).toBe(200);
  return stepped.body.token;
}

export function expectError(
  response: { status: number; body: any; text: string },
  status: number,
  code: string,
): void {
  expect(response.status, response.text).toBe(status);
  expect(response.body.error.code).toBe(code);
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

/** A user row with no password, for set-ups that need a member but never sign them in. */
export async function insertUser(app: TestApp, label = 'quiet'): Promise<{ userId: string; email: string }> {
  const email = `${label}${++counter}-${Date.now()}@example.com`;
  const row = await app.runtime.platform.db
    .insertInto('users')
    .values({
      email,
      email_normalized: email,
      name: label,
      email_verified_at: app.runtime.platform.clock.now(),
      disabled_at: null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { userId: row.id, email };
}

/** A live session row for `userId` (optionally bound to an org); returns its id and token. */
export async function insertSession(
  app: TestApp,
  userId: string,
  orgId: string | null = null,
): Promise<{ id: string; token: string }> {
  const token = randomToken();
  const now = app.runtime.platform.clock.now();
  const row = await app.runtime.platform.db
    .insertInto('sessions')
    .values({
      id: randomUUID(),
      token_hash: sessionTokenHash(token),
      user_id: userId,
      org_id: orgId,
      device_id: null,
      ip: '10.9.9.9',
      user_agent: 'test',
      country: null,
      created_at: now,
      last_seen_at: now,
      expires_at: new Date(now.getTime() + 24 * 3_600_000),
      idle_timeout_minutes: 1440,
      sudo_until: null,
      revoked_at: null,
      revoked_reason: null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { id: row.id, token };
}

/** A pending invitation written straight to the database (set-up only; no mail, no audit row). */
export async function insertInvitation(
  app: TestApp,
  orgId: string,
  options: { role?: OrgRole; invitedBy?: string | null; email?: string } = {},
): Promise<{ id: string; email: string; token: string }> {
  const db = app.runtime.platform.db;
  const now = app.runtime.platform.clock.now();
  const id = randomUUID();
  const email = options.email ?? `pending${++counter}-${Date.now()}@example.com`;
  await db
    .insertInto('invitations')
    .values({
      id,
      org_id: orgId,
      email,
      email_normalized: email.toLowerCase(),
      role: options.role ?? 'viewer',
      membership_expires_at: null,
      invited_by: options.invitedBy ?? null,
      created_at: now,
      accepted_at: null,
      accepted_by: null,
      revoked_at: null,
      revoked_reason: null,
    })
    .execute();
  const token = await issueToken(db, 'invitation', now, { subject: id });
  return { id, email, token };
}

/** Audit rows of one org's chain, oldest first. */
export async function orgAudit(app: TestApp, orgId: string) {
  return app.runtime.platform.db
    .selectFrom('audit_logs')
    .selectAll()
    .where('org_id', '=', orgId)
    .orderBy('seq')
    .execute();
}

/** A fresh sign-in for `user` (tests where days pass, longer than a session lives). */
export async function signInAgain(app: TestApp, user: TestUser): Promise<TestUser> {
  const signedIn = await login(app, user.email, user.password);
  expect(signedIn.status, signedIn.text).toBe(200);
  return { ...user, token: signedIn.body.token };
}

/** Publishes a scheduled topic's tick at the clock's time, as Cloud Scheduler would, and waits for every delivery it caused. */
export async function runScheduled(app: TestApp, clock: Clock, topic: Topic): Promise<void> {
  const p = app.runtime.platform;
  await p.publisher.publish(topic, makeEnvelope(topic, {}, clock.now()));
  await p.localBus?.idle();
  await app.settle();
}
