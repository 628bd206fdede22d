import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';

/**
 * The authenticator and the edge are now built once per unit and shared by every request: many
 * users' requests interleaved on one instance must each see only their own identity, org access
 * and step-up state, never a neighbour's.
 */
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app?.stop();
});

describe('interleaved requests of different users on one instance', () => {
  it('each answer carries its own user, org access and refusals', async () => {
    const users = await Promise.all([0, 1, 2].map(() => app.signupVerifiedAndLogin()));
    const orgs: string[] = [];
    for (const [i, user] of users.entries()) {
      const created = await app.request('POST', '/api/orgs', {
        token: user.token,
        body: { name: `Interleaved ${i}`, slug: `interleaved-${i}-${Date.now()}` },
      });
      expect(created.status).toBe(201);
      orgs.push(created.body.id);
    }
    const checks: Array<Promise<void>> = [];
    for (let round = 0; round < 20; round++) {
      for (const [i, user] of users.entries()) {
        checks.push(
          app.request('GET', '/api/sessions/current', { token: user.token }).then((res) => {
            expect(res.status).toBe(200);
            expect(res.body.user.id).toBe(user.userId);
          }),
        );
        // Own org: allowed; a neighbour's: not found, whatever ran just before on the instance.
        checks.push(
          app.request('GET', `/api/orgs/${orgs[i]}/members`, { token: user.token }).then((res) => {
            expect(res.status).toBe(200);
          }),
        );
        const other = orgs[(i + 1) % orgs.length];
        checks.push(
          app.request('GET', `/api/orgs/${other}/members`, { token: user.token }).then((res) => {
            expect(res.status).toBe(404);
          }),
        );
        checks.push(
          app.request('GET', `/api/orgs/${orgs[i]}/members`).then((res) => {
            expect(res.status).toBe(401);
          }),
        );
        checks.push(
          app
            .request('GET', '/api/sessions/current', { token: `${user.token.slice(0, -2)}xx` })
            .then((res) => {
              expect(res.status).toBe(401);
            }),
        );
      }
    }
    await Promise.all(checks);
  }, 60_000);
});
