import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../shared/audit/tables.js';
import '../../shared/sessions/tables.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { type FaultyDatabase, openFaultyDatabase } from '../helpers/db-faults.js';
import { login, newUser, orgTestEnv, type TestUser } from '../helpers/orgs.js';

/**
 * The database restarts (every connection dropped, refused for a while, then back) in the middle
 * of a burst of logins and session checks: every answer is a success, 503 UNAVAILABLE or a 429 in words, never a
 * 500; every session that committed has its audit row, and no audit row names a session that
 * did not commit.
 */
describe('database restarted during a burst of logins and validations', () => {
  let faulty: FaultyDatabase;
  let app: TestApp;
  let users: TestUser[];

  beforeAll(async () => {
    faulty = await openFaultyDatabase();
    app = await startTestApp({ env: orgTestEnv, database: faulty.handle });
    users = [];
    for (let i = 0; i < 4; i++) users.push(await newUser(app, `burst${i}`));
  });
  afterAll(async () => {
    faulty.restore();
    await app?.stop();
    await faulty?.close();
  });

  it('answers only successes, 503s and throttle refusals, loses no committed audit row and leaves no orphan session', async () => {
    const statuses = new Map<number, number>();
    const failures: string[] = [];
    const count = (status: number, text: string, retryAfter: string | null) => {
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      // While the store is away the throttle's per-instance windows still count (local-windows.ts):
      // these workers retry a failed login at once, so an account can run past its limit during
      // the outage and be told 429 with Retry-After. A refusal in words, never a 500.
      const refused =
        (status === 503 && /"UNAVAILABLE"/.test(text)) || (status === 429 && /"RATE_LIMITED"/.test(text));
      if (status !== 200 && !(refused && retryAfter)) {
        failures.push(`${status} ${text.slice(0, 200)}`);
      }
    };
    const deadline = Date.now() + 3000;
    const worker = async (n: number) => {
      let i = 0;
      while (Date.now() < deadline) {
        const user = users[(n + i++) % users.length] as TestUser;
        const answer =
          i % 4 === 0
            ? await login(app, user.email, user.password)
            : await app.request('GET', '/api/sessions/current', { token: user.token });
        count(answer.status, answer.text, answer.headers.get('retry-after'));
      }
    };
    const burst = Promise.all(Array.from({ length: 8 }, (_, n) => worker(n)));
    // Restart: down after 0.8 s, back 0.8 s later, while the workers keep going.
    await new Promise((resolve) => setTimeout(resolve, 800));
    faulty.cut();
    await new Promise((resolve) => setTimeout(resolve, 800));
    faulty.restore();
    await burst;

    expect(failures).toEqual([]);
    expect(statuses.get(503) ?? 0).toBeGreaterThan(0);
    expect(statuses.get(200) ?? 0).toBeGreaterThan(0);

    const db = app.runtime.platform.db;
    const ids = users.map((u) => u.userId);
    const sessions = await db.selectFrom('sessions').select('id').where('user_id', 'in', ids).execute();
    const audits = await db
      .selectFrom('audit_logs')
      .select('target_id')
      .where('actor_id', 'in', ids)
      .where('action', '=', 'login.succeeded')
      .execute();
    const sessionIds = new Set(sessions.map((s) => s.id));
    const auditedIds = new Set(audits.map((a) => a.target_id));
    // Each committed session carries its audit row and each audit row its session: one transaction.
    expect([...sessionIds].filter((id) => !auditedIds.has(id))).toEqual([]);
    expect([...auditedIds].filter((id) => id !== null && !sessionIds.has(id))).toEqual([]);
    expect(audits).toHaveLength(sessions.length);

    // And the service is whole again: a fresh login and a check both work.
    const after = await login(app, users[0]!.email, users[0]!.password);
    expect(after.status, after.text).toBe(200);
    expect((await app.request('GET', '/api/sessions/current', { token: after.body.token })).status).toBe(200);
  });
});
