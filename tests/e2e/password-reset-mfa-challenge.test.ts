import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock, SECOND_MS } from '../../shared/time/clock.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { testEngine } from '../helpers/db.js';
import { client, codeAt, enableMfa, mfaStep, passwordStep, stepUpWithCode } from '../helpers/mfa.js';
import { expectError, newUser, orgTestEnv, type TestUser } from '../helpers/orgs.js';

/**
 * Someone who learnt the old password holds an MFA challenge (the password step's mfaToken) when
 * the owner resets or changes that password. The challenge proved the old password: it must not
 * turn into a session once that password is gone, whatever second factor comes with it.
 */
const clock = new FakeClock('2026-06-01T09:00:00Z');
let app: TestApp;

beforeAll(async () => {
  app = await startTestApp({ clock, env: orgTestEnv });
});
afterAll(async () => {
  await app?.stop();
});

const NEW_PASSWORD = 'a different long passphrase 77';

async function attackerChallenge(victim: TestUser) {
  const headers = client();
  const first = await passwordStep(app, victim, headers);
  expect(first.status, first.text).toBe(401);
  return { mfaToken: first.body.error.mfaToken as string, headers };
}

describe('an MFA challenge started with the old password', () => {
  it('cannot be completed after a password reset, even with a backup code; one started after it can', async () => {
    const victim = await newUser(app, 'reset-victim');
    const { backupCodes } = await enableMfa(app, clock, victim);
    const attacker = await attackerChallenge(victim);

    const requested = await app.request('POST', '/api/accounts/password-reset/request', {
      body: { email: victim.email },
      headers: client(),
    });
    expect(requested.status).toBe(202);
    await app.settle();
    const confirmed = await app.request('POST', '/api/accounts/password-reset/confirm', {
      body: { token: app.tokenFromMail(victim.email, 'password-reset'), newPassword: NEW_PASSWORD },
      headers: client(),
    });
    expect(confirmed.status, confirmed.text).toBe(200);

    expectError(
      await mfaStep(app, attacker.mfaToken, backupCodes[0] as string, attacker.headers),
      401,
      'UNAUTHENTICATED',
    );
    const owner = client();
    const fresh = await passwordStep(app, { ...victim, password: NEW_PASSWORD }, owner);
    expect((await mfaStep(app, fresh.body.error.mfaToken, backupCodes[1] as string, owner)).status).toBe(200);
  });

  it('cannot be completed after the owner changes the password', async () => {
    const victim = await newUser(app, 'change-victim');
    const { secret } = await enableMfa(app, clock, victim);
    const ownerClient = client();
    const ownerFirst = await passwordStep(app, victim, ownerClient);
    const ownerLogin = await mfaStep(
      app,
      ownerFirst.body.error.mfaToken,
      await codeAt(secret, clock.now()),
      ownerClient,
    );
    expect(ownerLogin.status, ownerLogin.text).toBe(200);
    const attacker = await attackerChallenge(victim);
    clock.advance(30 * SECOND_MS);
    const stepped = await stepUpWithCode(app, ownerLogin.body.token, await codeAt(secret, clock.now()));
    expect(stepped.status, stepped.text).toBe(200);
    const changed = await app.request('POST', '/api/accounts/password', {
      token: stepped.body.token,
      body: { currentPassword: victim.password, newPassword: NEW_PASSWORD },
      headers: ownerClient,
    });
    expect(changed.status, changed.text).toBe(200);

    clock.advance(30 * SECOND_MS);
    expectError(
      await mfaStep(app, attacker.mfaToken, await codeAt(secret, clock.now()), attacker.headers),
      401,
      'UNAUTHENTICATED',
    );
  });

  it('cannot be completed when the reset ends it while the code is being checked', async () => {
    const victim = await newUser(app, 'race-victim');
    const { backupCodes } = await enableMfa(app, clock, victim);
    const attacker = await attackerChallenge(victim);
    const db = app.runtime.platform.db;
    // The reset's transaction, held open with the challenge ended: the code check lands in between.
    const reset = await db.startTransaction().execute();
    await reset.deleteFrom('mfa_challenges').where('user_id', '=', victim.userId).execute();
    const completing = mfaStep(app, attacker.mfaToken, backupCodes[0] as string, attacker.headers);
    if (testEngine === 'pglite') await new Promise((resolve) => setTimeout(resolve, 300));
    else {
      for (let i = 0; i < 120; i++) {
        const waiting = await sql<{ n: number }>`
          select count(*)::int as n from pg_stat_activity
          where wait_event_type = 'Lock' and pid <> pg_backend_pid() and query ilike '%"mfa_challenges"%'`.execute(
          db,
        );
        if ((waiting.rows[0]?.n ?? 0) > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    }
    await reset.commit().execute();
    expectError(await completing, 401, 'UNAUTHENTICATED');
  });
});
