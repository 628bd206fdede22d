import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { userChain } from '../../shared/audit/chain.js';
import { FakeClock } from '../../shared/time/clock.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { issueApiKey } from '../helpers/keys.js';
import { codeAt, enableMfa, stepUpWithCode } from '../helpers/mfa.js';
import {
  createOrg,
  expectError,
  grantMembership,
  login,
  newUser,
  nextIp,
  orgAudit,
  orgTestEnv,
  sudoToken,
} from '../helpers/orgs.js';

const clock = new FakeClock('2026-07-01T10:00:00Z');
let app: TestApp;

beforeAll(async () => {
  app = await startTestApp({ clock, env: orgTestEnv });
}, 180_000);
afterAll(() => app?.stop());

const rowsOf = (
  table:
    | 'password_credentials'
    | 'mfa_totp'
    | 'mfa_backup_codes'
    | 'known_devices'
    | 'sessions'
    | 'memberships',
  userId: string,
) => app.runtime.platform.db.selectFrom(table).select('user_id').where('user_id', '=', userId).execute();

describe('deleting one’s own account', () => {
  it('needs the step-up window', async () => {
    const user = await newUser(app, 'hasty');
    expectError(
      await app.request('DELETE', '/api/accounts/me', { token: user.token }),
      403,
      'STEP_UP_REQUIRED',
    );
    expect((await app.request('GET', '/api/sessions/current', { token: user.token })).status).toBe(200);
  });

  it('is refused with 409 naming every org where the person is the last permanent owner', async () => {
    const user = await newUser(app, 'sole');
    const solo = await createOrg(app, user);
    const shared = await createOrg(app, user);
    const coOwner = await newUser(app, 'co-owner');
    await grantMembership(app, shared.id, coOwner.userId, 'owner');
    // An owner whose membership expires does not count as the org's keeper.
    const third = await createOrg(app, user);
    const temporary = await newUser(app, 'temporary');
    await grantMembership(
      app,
      third.id,
      temporary.userId,
      'owner',
      new Date(clock.now().getTime() + 86_400_000),
    );

    const refused = await app.request('DELETE', '/api/accounts/me', { token: await sudoToken(app, user) });
    expectError(refused, 409, 'CONFLICT');
    expect(refused.body.error.orgs.map((o: { id: string }) => o.id).sort()).toEqual(
      [solo.id, third.id].sort(),
    );
    // Nothing happened: the person still signs in and still belongs to every org.
    expect((await login(app, user.email, user.password)).status).toBe(200);
    expect(await rowsOf('memberships', user.userId)).toHaveLength(3);
  });

  it('ends every session, deletes credentials, MFA and devices, erases email and name, and keeps only the id', async () => {
    const user = await newUser(app, 'leaving');
    const { secret } = await enableMfa(app, clock, user);
    const owner = await newUser(app, 'org-owner');
    const org = await createOrg(app, owner);
    await grantMembership(app, org.id, user.userId, 'admin');
    const other = await login(app, user.email, user.password);
    expect(other.status).toBe(401); // MFA first: a second session comes through the second step
    const stepped = await stepUpWithCode(app, user.token, await codeAt(secret, clock.now()));
    expect(stepped.status, stepped.text).toBe(200);
    const sudo: string = stepped.body.token;
    const key = await issueApiKey(app, org.id, 'admin');
    // The person's own key (created_by them) stops as a removal would stop it.
    await app.runtime.platform.db
      .updateTable('api_keys')
      .set({ created_by: user.userId })
      .where('org_id', '=', org.id)
      .execute();

    const deleted = await app.request('DELETE', '/api/accounts/me', { token: sudo });
    expect(deleted.status, deleted.text).toBe(202);
    expect(deleted.body).toMatchObject({ deleted: true });
    await app.settle();

    for (const token of [user.token, sudo]) {
      expectError(await app.request('GET', '/api/sessions/current', { token }), 401, 'UNAUTHENTICATED');
    }
    expectError(
      await app.request('GET', `/api/orgs/${org.id}/members`, { token: key }),
      401,
      'UNAUTHENTICATED',
    );
    expectError(await login(app, user.email, user.password), 401, 'INVALID_CREDENTIALS');
    for (const table of [
      'password_credentials',
      'mfa_totp',
      'mfa_backup_codes',
      'known_devices',
      'sessions',
      'memberships',
    ] as const) {
      expect(await rowsOf(table, user.userId), table).toEqual([]);
    }
    const tombstone = await app.runtime.platform.db
      .selectFrom('users')
      .selectAll()
      .where('id', '=', user.userId)
      .executeTakeFirstOrThrow();
    expect(tombstone).toMatchObject({
      email: `deleted-${user.userId}@deleted.invalid`,
      name: '',
      deleted_at: clock.now(),
    });

    // The audit trail names the account by id: its own chain ends with account.deleted, and the
    // org it left records the removal without the address.
    const own = await app.runtime.platform.db
      .selectFrom('audit_logs')
      .select(['action', 'metadata'])
      .where('chain', '=', userChain(user.userId))
      .orderBy('seq')
      .execute();
    expect(own.at(-1)?.action).toBe('account.deleted');
    const orgRows = await orgAudit(app, org.id);
    expect(orgRows.at(-1)).toMatchObject({ action: 'member.removed', target_id: user.userId });
    expect(orgRows.at(-1)?.metadata).toMatchObject({ reason: 'account_deleted' });
    expect(JSON.stringify([...own, ...orgRows].map((r) => r.metadata))).not.toContain(user.email);

    // The address is free: signing up with it makes a new, unrelated account.
    const again = await app.request('POST', '/api/accounts/signup', {
      body: { email: user.email, password: 'another long passphrase 77', name: 'Again' },
      headers: { 'x-forwarded-for': nextIp() },
    });
    expect(again.status).toBe(202);
    const fresh = await app.runtime.platform.db
      .selectFrom('users')
      .select('id')
      .where('email_normalized', '=', user.email.toLowerCase())
      .executeTakeFirstOrThrow();
    expect(fresh.id).not.toBe(user.userId);
  });
});
