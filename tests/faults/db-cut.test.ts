import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../shared/audit/tables.js';
import '../../shared/sessions/tables.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { type FaultyDatabase, openFaultyDatabase } from '../helpers/db-faults.js';
import { login, newUser, orgTestEnv, type TestUser } from '../helpers/orgs.js';

/**
 * PostgreSQL connections cut mid-request (a TCP proxy on PostgreSQL, the handle on PGlite): the
 * client hears 503 UNAVAILABLE with Retry-After and plain words, nothing half-written stays, its
 * retry succeeds, and the pool is back within 5 s of the database.
 */
describe(`database connections cut mid-request (${process.env.DATABASE_URL ? 'postgres via TCP proxy' : 'pglite handle'})`, () => {
  let faulty: FaultyDatabase;
  let app: TestApp;
  let user: TestUser;

  beforeAll(async () => {
    faulty = await openFaultyDatabase();
    app = await startTestApp({ env: orgTestEnv, database: faulty.handle });
    user = await newUser(app, 'cut');
  });
  afterAll(async () => {
    faulty.restore();
    await app?.stop();
    await faulty?.close();
  });

  /**
   * Restores the database and waits until the pool answers again (the bound: 5 s). An idle
   * pooled connection the cut dropped may not have noticed yet; the product answers 503 for it,
   * but the test's own queries below read through the same pool and must not trip over it.
   */
  async function restoreAndWait() {
    faulty.restore();
    const back = Date.now();
    for (;;) {
      try {
        await sql`select 1`.execute(app.runtime.platform.db);
        return;
      } catch (error) {
        if (Date.now() - back > 5000) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  }

  async function sessionsOf(userId: string) {
    return app.runtime.platform.db
      .selectFrom('sessions')
      .select(['id'])
      .where('user_id', '=', userId)
      .execute();
  }
  async function loginAudits(userId: string) {
    return app.runtime.platform.db
      .selectFrom('audit_logs')
      .select(['target_id'])
      .where('actor_id', '=', userId)
      .where('action', '=', 'login.succeeded')
      .execute();
  }

  it('a login whose connection drops before its audit row answers 503 UNAVAILABLE and writes nothing', async () => {
    const sessionsBefore = (await sessionsOf(user.userId)).length;
    const auditsBefore = (await loginAudits(user.userId)).length;
    const cut = faulty.cutOn(/insert into "?audit_logs/i);
    const refused = await login(app, user.email, user.password);
    await cut;
    expect(refused.status, refused.text).toBe(503);
    expect(refused.body.error.code).toBe('UNAVAILABLE');
    expect(refused.body.error.message).toMatch(
      /unavailable.*nothing was changed.*Try again in \d+ seconds?\./,
    );
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    // Never a stack, SQL or driver words in the answer.
    expect(refused.text).not.toMatch(/at .*\.(ts|js)|Connection terminated|insert into|audit_logs/i);

    await restoreAndWait();
    // The session row of the rolled-back transaction is not there (no orphan without its audit row).
    expect(await sessionsOf(user.userId)).toHaveLength(sessionsBefore);
    expect(await loginAudits(user.userId)).toHaveLength(auditsBefore);

    const retried = await login(app, user.email, user.password);
    expect(retried.status, retried.text).toBe(200);
    const audits = await loginAudits(user.userId);
    expect(audits).toHaveLength(auditsBefore + 1);
    expect(audits.map((a) => a.target_id)).toContain(retried.body.session.id);
  });

  it('while the database is away every request answers 503 with Retry-After, and none hangs', async () => {
    faulty.cut();
    const started = Date.now();
    const answers = await Promise.all([
      app.request('GET', '/api/sessions/current', { token: user.token }),
      login(app, user.email, user.password),
      app.request('POST', '/api/orgs', {
        token: user.token,
        body: { name: 'Away', slug: `away-${Date.now()}` },
      }),
    ]);
    for (const answer of answers) {
      expect(answer.status, answer.text).toBe(503);
      expect(answer.body.error.code).toBe('UNAVAILABLE');
      expect(answer.headers.get('retry-after')).toMatch(/^\d+$/);
    }
    // Bounded by the pool's connect timeout, not by the client giving up.
    expect(Date.now() - started).toBeLessThan(10_000);
    faulty.restore();
  });

  it('the pool recovers within 5 s of the database returning, and the client retry succeeds', async () => {
    faulty.cut();
    const down = await app.request('GET', '/api/sessions/current', { token: user.token });
    expect(down.status).toBe(503);
    faulty.restore();
    const back = Date.now();
    let answer = await app.request('GET', '/api/sessions/current', { token: user.token });
    while (answer.status !== 200 && Date.now() - back < 5000) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      answer = await app.request('GET', '/api/sessions/current', { token: user.token });
    }
    expect(answer.status, answer.text).toBe(200);
    expect(Date.now() - back).toBeLessThan(5000);
  });

  it('a connection dropped while a transaction is open rolls the whole change back', async () => {
    const slug = `half-${Date.now()}`;
    const cut = faulty.cutOn(/insert into "?audit_logs/i);
    const refused = await app.request('POST', '/api/orgs', {
      token: user.token,
      body: { name: 'Half', slug },
    });
    await cut;
    expect(refused.status, refused.text).toBe(503);
    await restoreAndWait();
    const orgs = await app.runtime.platform.db
      .selectFrom('orgs')
      .select('id')
      .where('slug', '=', slug)
      .execute();
    expect(orgs).toHaveLength(0);

    const retried = await app.request('POST', '/api/orgs', {
      token: user.token,
      body: { name: 'Half', slug },
    });
    expect(retried.status, retried.text).toBe(201);
  });

  it('the OpenAPI document lists UNAVAILABLE and a 503 with Retry-After on every operation', async () => {
    const doc = (await app.request('GET', '/api/openapi.json')).body;
    expect(doc.components.schemas.Error.properties.error.properties.code.enum).toContain('UNAVAILABLE');
    for (const [path, operations] of Object.entries(doc.paths as Record<string, Record<string, any>>)) {
      for (const [method, operation] of Object.entries(operations)) {
        const unavailable = operation.responses['503'];
        expect(unavailable?.description, `${method} ${path}`).toMatch(/^UNAVAILABLE/);
        expect(unavailable.headers['Retry-After'].schema.type).toBe('integer');
      }
    }
  });
});
