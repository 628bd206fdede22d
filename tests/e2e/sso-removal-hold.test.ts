import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../helpers/app.js';
import { testEngine } from '../helpers/db.js';
import type { InProcessProvider } from '../helpers/oidc.js';
import { login, type TestUser } from '../helpers/orgs.js';
import { cookieOf, orgWithOidcSso, ssoAudit, ssoLogin } from '../helpers/sso.js';

/**
 * The attack: an admin removes a member in the console, but nobody unassigns them at the org's
 * identity provider, which still lets them sign in, and the org's SSO would make them a member
 * again just in time at their next sign-in. An admin's removal holds until an admin invites them
 * again.
 */
let app: TestApp;
let idp: InProcessProvider;
let redirectUri: string;
let owner: TestUser;
let org: { id: string; slug: string };

beforeAll(async () => {
  ({ app, idp, redirectUri, owner, org } = await orgWithOidcSso('removal-hold-owner'));
}, 240_000);

afterAll(async () => {
  await app?.stop();
  await idp?.stop();
});

function ssoSignIn(email: string) {
  idp.user = { sub: `idp-${email}`, email, email_verified: true };
  return ssoLogin(app, org.slug, redirectUri);
}

/** A person the org's SSO made a member just in time; their user id. */
async function jitMember(label: string): Promise<{ email: string; userId: string }> {
  const email = `${label}-${Date.now()}@acme.test`;
  const first = await ssoSignIn(email);
  expect(first.status, first.text).toBe(302);
  const token = cookieOf(first, '__Host-sf_session');
  const current = await app.request('GET', '/api/sessions/current', { token });
  expect(current.status, current.text).toBe(200);
  return { email, userId: current.body.user.id };
}

function membership(userId: string) {
  return app.runtime.platform.db
    .selectFrom('memberships')
    .select('role')
    .where('org_id', '=', org.id)
    .where('user_id', '=', userId)
    .executeTakeFirst();
}

async function remove(userId: string) {
  const removed = await app.request('DELETE', `/api/orgs/${org.id}/members/${userId}`, {
    token: owner.token,
  });
  expect(removed.status, removed.text).toBeLessThan(300);
}

async function invite(email: string, extra: { expiresAt?: string } = {}): Promise<string> {
  const invited = await app.request('POST', `/api/orgs/${org.id}/invitations`, {
    token: owner.token,
    body: { email, role: 'viewer', ...extra },
  });
  expect(invited.status, invited.text).toBe(201);
  return invited.body.id;
}

describe("an admin's removal against the org's own SSO", () => {
  it('a removed member signing in through SSO again gets 403, no session and no membership, audited', async () => {
    const person = await jitMember('removed');
    await remove(person.userId);

    const again = await ssoSignIn(person.email);
    expect([again.status, again.body?.error?.code]).toEqual([403, 'INSUFFICIENT_ROLE']);
    expect(again.body.error.message).toContain('ask an admin to invite you again');
    expect(cookieOf(again, '__Host-sf_session')).toBeUndefined();
    expect(await membership(person.userId)).toBeUndefined();
    expect((await ssoAudit(app, org.id)).at(-1)).toMatchObject({
      action: 'sso.login',
      outcome: 'refused',
      reason: 'removed_by_admin',
    });
    // Asking again changes nothing.
    expect((await ssoSignIn(person.email)).status).toBe(403);
  });

  it("an admin's invitation lets them back through SSO, and the hold is gone once they are in", async () => {
    const person = await jitMember('invited-back');
    await remove(person.userId);
    expect((await ssoSignIn(person.email)).status).toBe(403);

    await invite(person.email.toUpperCase());
    const back = await ssoSignIn(person.email);
    expect(back.status, back.text).toBe(302);
    expect(await membership(person.userId)).toBeDefined();
    const held = await app.runtime.platform.db
      .selectFrom('org_removals')
      .select('user_id')
      .where('org_id', '=', org.id)
      .where('user_id', '=', person.userId)
      .executeTakeFirst();
    expect(held).toBeUndefined();
  });

  it('an invitation withdrawn, or one that expired, does not let them back', async () => {
    const person = await jitMember('withdrawn');
    await remove(person.userId);
    const invitationId = await invite(person.email);
    const withdrawn = await app.request('DELETE', `/api/orgs/${org.id}/invitations/${invitationId}`, {
      token: owner.token,
    });
    expect(withdrawn.status, withdrawn.text).toBeLessThan(300);
    expect((await ssoSignIn(person.email)).status).toBe(403);

    await invite(person.email);
    await app.runtime.platform.db
      .updateTable('one_time_tokens')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('purpose', '=', 'invitation')
      .execute();
    expect((await ssoSignIn(person.email)).status).toBe(403);
    expect(await membership(person.userId)).toBeUndefined();
  });

  it('another person with an invitation does not free the removed one', async () => {
    const person = await jitMember('not-them');
    await remove(person.userId);
    await invite(`someone-else-${Date.now()}@acme.test`);
    expect((await ssoSignIn(person.email)).status).toBe(403);
  });

  it('an invitation sent before the removal does not undo it', async () => {
    // Invited, then made a member just in time by SSO: the invitation was never accepted.
    const email = `invited-first-${Date.now()}@acme.test`;
    await invite(email);
    const first = await ssoSignIn(email);
    expect(first.status, first.text).toBe(302);
    const token = cookieOf(first, '__Host-sf_session');
    const current = await app.request('GET', '/api/sessions/current', { token });
    const userId: string = current.body.user.id;
    await remove(userId);

    const again = await ssoSignIn(email);
    expect([again.status, again.body?.error?.code]).toEqual([403, 'INSUFFICIENT_ROLE']);
    expect(await membership(userId)).toBeUndefined();
  });

  it('the invitation that lets them back through SSO sets their role and expiry, and is spent', async () => {
    const person = await jitMember('invited-as-viewer');
    await remove(person.userId);
    const expiresAt = new Date(Date.now() + 86_400_000).toISOString();
    const invitationId = await invite(person.email, { expiresAt });

    const back = await ssoSignIn(person.email);
    expect(back.status, back.text).toBe(302);
    const joined = await app.runtime.platform.db
      .selectFrom('memberships')
      .select(['role', 'expires_at'])
      .where('org_id', '=', org.id)
      .where('user_id', '=', person.userId)
      .executeTakeFirstOrThrow();
    expect(joined.role).toBe('viewer');
    expect(joined.expires_at?.toISOString()).toBe(expiresAt);
    const invitation = await app.runtime.platform.db
      .selectFrom('invitations')
      .select(['accepted_at', 'accepted_by'])
      .where('id', '=', invitationId)
      .executeTakeFirstOrThrow();
    expect(invitation.accepted_by).toBe(person.userId);
    // Removed again: the spent invitation does not let them back a second time.
    await remove(person.userId);
    expect((await ssoSignIn(person.email)).status).toBe(403);
  });

  it('a sign-in that read the membership just before the removal committed does not recreate it', async () => {
    const person = await jitMember('racing');
    const db = app.runtime.platform.db;
    // The removal's transaction, held open with its writes done: the sign-in lands in between.
    const removal = await db.startTransaction().execute();
    await removal
      .deleteFrom('memberships')
      .where('org_id', '=', org.id)
      .where('user_id', '=', person.userId)
      .execute();
    await removal
      .insertInto('org_removals')
      .values({ org_id: org.id, user_id: person.userId, removed_by: owner.userId, removed_at: new Date() })
      .execute();
    const signingIn = ssoSignIn(person.email);
    if (testEngine === 'pglite') await new Promise((resolve) => setTimeout(resolve, 300));
    else {
      for (let i = 0; i < 120; i++) {
        const waiting = await sql<{ n: number }>`
          select count(*)::int as n from pg_stat_activity
          where wait_event_type = 'Lock' and pid <> pg_backend_pid() and query ilike '%"memberships"%'`.execute(
          db,
        );
        if ((waiting.rows[0]?.n ?? 0) > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    }
    await removal.commit().execute();
    const again = await signingIn;
    expect([again.status, again.body?.error?.code]).toEqual([403, 'INSUFFICIENT_ROLE']);
    expect(await membership(person.userId)).toBeUndefined();
  });

  it('an invitation sent before the removal cannot be accepted after it either', async () => {
    // Invited, made a member just in time by SSO (the invitation stays pending), then removed.
    const email = `accept-late-${Date.now()}@acme.test`;
    await invite(email);
    const first = await ssoSignIn(email);
    expect(first.status, first.text).toBe(302);
    const current = await app.request('GET', '/api/sessions/current', {
      token: cookieOf(first, '__Host-sf_session'),
    });
    const userId: string = current.body.user.id;
    await remove(userId);

    // Their own account, signed in with a password set through its mailbox.
    const password = 'a long enough passphrase 42';
    const requested = await app.request('POST', '/api/accounts/password-reset/request', {
      body: { email },
      headers: { 'x-forwarded-for': '203.0.113.77' },
    });
    expect(requested.status, requested.text).toBe(202);
    await app.settle();
    const reset = await app.request('POST', '/api/accounts/password-reset/confirm', {
      body: { token: app.tokenFromMail(email, 'password-reset'), newPassword: password },
      headers: { 'x-forwarded-for': '203.0.113.77' },
    });
    expect(reset.status, reset.text).toBe(200);
    const signedIn = await login(app, email, password);
    expect(signedIn.status, signedIn.text).toBe(200);

    const accepted = await app.request('POST', '/api/orgs/invitations/accept', {
      token: signedIn.body.token,
      body: { token: app.tokenFromMail(email, 'invitation') },
    });
    expect([accepted.status, accepted.body?.error?.code]).toEqual([404, 'NOT_FOUND']);
    expect(await membership(userId)).toBeUndefined();
  });
});
