import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLoopback } from '../../shared/runtime/dev-routes.js';
import { loadRewrites } from '../../shared/runtime/rewrites.js';
import { FakeClock, MINUTE_MS } from '../../shared/time/clock.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { codeAt, enableMfa, stepUpWithCode } from '../helpers/mfa.js';
import { createOrg, newUser, orgTestEnv } from '../helpers/orgs.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const tsx = join(root, 'node_modules/.bin/tsx');

function runTsx(script: string, env: NodeJS.ProcessEnv) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    execFile(tsx, [script], { cwd: root, env, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr });
    });
  });
}

// A fake clock so the MFA lockout test can pick codes of past steps; it starts at the real time.
const clock = new FakeClock(new Date());
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ clock, env: orgTestEnv });
});
afterAll(() => app?.stop());

describe('mistakes people make while trying the API', () => {
  it('a token sent without "Bearer" is told how to send it', async () => {
    const user = await newUser(app, 'nobearer');
    const res = await app.request('GET', '/api/sessions/current', {
      headers: { authorization: user.token },
    });
    expect(res.status).toBe(401);
    expect(res.body.error).toEqual({
      code: 'UNAUTHENTICATED',
      message: 'Use Authorization: Bearer <token> (the word Bearer, a space, then the token).',
    });
    // An org route says the same, and the right form still works.
    const org = await createOrg(app, user);
    const orgRoute = await app.request('GET', `/api/orgs/${org.id}/members`, {
      headers: { authorization: `Token ${user.token}` },
    });
    expect(orgRoute.body.error.message).toMatch(/^Use Authorization: Bearer <token>/);
    expect((await app.request('GET', '/api/sessions/current', { token: user.token })).status).toBe(200);
  });

  it('a known path asked with another method answers 405 METHOD_NOT_ALLOWED naming the methods in Allow', async () => {
    const login = await app.request('GET', '/api/login');
    expect(login.status).toBe(405);
    expect(login.headers.get('allow')).toBe('POST');
    expect(login.body.error).toEqual({
      code: 'METHOD_NOT_ALLOWED',
      message: 'GET is not allowed here; use POST.',
    });
    const members = await app.request('PUT', '/api/orgs/00000000-0000-4000-8000-000000000000/members', {
      body: {},
    });
    expect(members.status).toBe(405);
    expect(members.headers.get('allow')).toBe('GET');
    const sessions = await app.request('PATCH', '/api/sessions/00000000-0000-4000-8000-000000000000');
    expect(sessions.status).toBe(405);
    expect(sessions.headers.get('allow')?.split(', ')).toContain('DELETE');
  });

  it('a path no route has stays 404, whatever the method', async () => {
    for (const method of ['GET', 'POST']) {
      const res = await app.request(method, '/api/login/nowhere');
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('NOT_FOUND');
    }
  });

  it('npm start on a port in use says so in one line and exits before opening any data', async () => {
    const busy: Server = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as { port: number }).port;
    const dataDir = join(mkdtempSync(join(tmpdir(), 'sf-port-')), 'data');
    try {
      const run = await runTsx('shared/runtime/main.ts', {
        PATH: process.env.PATH,
        PORT: String(port),
        DATA_DIR: dataDir,
      });
      expect(run.code).toBe(1);
      expect(run.stderr).toBe(
        `Port ${port} on 127.0.0.1 is already in use (another npm start?): stop it, or start with PORT=<another port>.\n`,
      );
      expect(existsSync(dataDir)).toBe(false);
    } finally {
      await new Promise<void>((resolve) => busy.close(() => resolve()));
    }
  });

  it('npm run db:grant without DB_APP_USERS names the variable in one line', async () => {
    const run = await runTsx('scripts/db-grants.ts', { PATH: process.env.PATH });
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      "DB_APP_USERS is not set: list the functions' IAM database users, comma separated (terraform output function_db_users).\n",
    );
    const invalid = await runTsx('scripts/db-grants.ts', { PATH: process.env.PATH, DB_APP_USERS: 'root' });
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(/^DB_APP_USERS must list IAM service account users .*; not one: root\n$/);
  });
});

describe('embedded-only helpers under /api/dev/', () => {
  it('signs audit checkpoints now, so a new chain verifies against one', async () => {
    const owner = await newUser(app, 'checkpoint');
    const org = await createOrg(app, owner);
    const before = await app.request('GET', `/api/orgs/${org.id}/audit/verify`, { token: owner.token });
    expect(before.body.checkpoint).toBeNull();
    const ran = await app.request('POST', '/api/dev/run/audit-checkpoint');
    expect(ran.status).toBe(200);
    expect(ran.body).toEqual({ ran: 'audit-checkpoint' });
    const after = await app.request('GET', `/api/orgs/${org.id}/audit/verify`, { token: owner.token });
    expect(after.body).toMatchObject({
      valid: true,
      checkpoint: { seq: after.body.count, signatureValid: true },
    });
  });

  it('resets the rate limits: a throttled address may log in again', async () => {
    const user = await newUser(app, 'limits');
    const from = { 'x-forwarded-for': '198.51.100.99' };
    let last = 0;
    for (let i = 0; i < 11; i++) {
      last = (
        await app.request('POST', '/api/login', {
          body: { email: user.email, password: 'wrong password, clearly' },
          headers: from,
        })
      ).status;
    }
    expect(last).toBe(429);
    const reset = await app.request('POST', '/api/dev/reset-limits');
    expect(reset.status).toBe(200);
    expect(reset.body.windowsDropped).toBeGreaterThan(0);
    const again = await app.request('POST', '/api/login', {
      body: { email: user.email, password: user.password },
      headers: from,
    });
    expect(again.status).toBe(200);
  });

  it('clears MFA lockouts too: a user locked out by five wrong codes may step up again', async () => {
    const user = await newUser(app, 'locked');
    const { secret } = await enableMfa(app, clock, user);
    const stale = await codeAt(secret, new Date(clock.now().getTime() - 10 * MINUTE_MS));
    for (let i = 0; i < 5; i++) await stepUpWithCode(app, user.token, stale);
    const right = await codeAt(secret, clock.now());
    expect((await stepUpWithCode(app, user.token, right)).status).toBe(429);
    const reset = await app.request('POST', '/api/dev/reset-limits');
    expect(reset.body.mfaLockoutsCleared).toBe(1);
    const after = await stepUpWithCode(app, user.token, right);
    expect(after.status).toBe(200);
  });

  it('takes POST only, names what exists, and runs only scheduled topics', async () => {
    const get = await app.request('GET', '/api/dev/reset-limits');
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    const unknown = await app.request('POST', '/api/dev/run/mail-outbox');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.message).toMatch(/reset-limits.*run\/<scheduled topic>/);
  });

  it('exist only in the local gateway: no Hosting rewrite reaches them, and only loopback callers are served', () => {
    const rewrites = loadRewrites();
    for (const path of ['/api/dev/reset-limits', '/api/dev/run/audit-checkpoint']) {
      expect(rewrites.filter((r) => r.matches(path)).map((r) => r.source)).toEqual([]);
    }
    expect(isLoopback('127.0.0.1')).toBe(true);
    expect(isLoopback('::ffff:127.0.0.1')).toBe(true);
    expect(isLoopback('::1')).toBe(true);
    expect(isLoopback('192.168.1.20')).toBe(false);
    expect(isLoopback('::ffff:10.0.0.1')).toBe(false);
    expect(isLoopback(undefined)).toBe(false);
  });
});
