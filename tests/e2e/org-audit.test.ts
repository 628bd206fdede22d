import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { tamper } from '../helpers/audit.js';
import { createOrg, grantMembership, newUser, orgTestEnv, type TestUser } from '../helpers/orgs.js';

let app: TestApp;
let owner: TestUser;
let orgId: string;
beforeAll(async () => {
  app = await startTestApp({ env: orgTestEnv });
  owner = await newUser(app, 'owner');
  orgId = (await createOrg(app, owner)).id;
});
afterAll(async () => {
  await app?.stop();
});

describe('an org’s audit log over HTTP, behind the org membership gate', () => {
  it('shows the owner the org’s events and verifies the chain', async () => {
    const log = await app.request('GET', `/api/orgs/${orgId}/audit`, { token: owner.token });
    expect(log.status).toBe(200);
    expect(log.body.events[0]).toMatchObject({
      seq: 1,
      action: 'member.joined',
      actorType: 'user',
      actorId: owner.userId,
      prevHash: '0'.repeat(64),
    });
    expect(log.body.nextCursor).toBeNull();

    const verify = await app.request('GET', `/api/orgs/${orgId}/audit/verify`, { token: owner.token });
    expect(verify.status).toBe(200);
    expect(verify.body).toEqual({
      valid: true,
      count: 1,
      headHash: log.body.events[0].hash,
      brokenAtSeq: null,
      reason: null,
      checkpoint: null,
    });
  });

  it('lets admins read and verify, and answers 403 INSUFFICIENT_ROLE to members and viewers', async () => {
    const expected = { viewer: 403, member: 403, admin: 200 } as const;
    for (const [role, status] of Object.entries(expected) as Array<['viewer' | 'member' | 'admin', number]>) {
      const user = await newUser(app, role);
      await grantMembership(app, orgId, user.userId, role);
      for (const path of [`/api/orgs/${orgId}/audit`, `/api/orgs/${orgId}/audit/verify`]) {
        const response = await app.request('GET', path, { token: user.token });
        expect(response.status, `${role} ${path}`).toBe(status);
        if (status === 403) expect(response.body.error.code).toBe('INSUFFICIENT_ROLE');
      }
    }
  });

  it('answers 404 to the owner of another org', async () => {
    const stranger = await newUser(app, 'stranger');
    await createOrg(app, stranger);
    for (const path of [`/api/orgs/${orgId}/audit`, `/api/orgs/${orgId}/audit/verify`]) {
      const response = await app.request('GET', path, { token: stranger.token });
      expect(response.status).toBe(404);
      expect(response.body.error.code).toBe('NOT_FOUND');
    }
  });

  it('reports the first bad seq after a row is edited in the database, with the signed checkpoint', async () => {
    const p = app.runtime.platform;
    const { makeEnvelope } = await import('../../shared/bus/envelope.js');
    await p.publisher.publish('audit-checkpoint', makeEnvelope('audit-checkpoint', {}, p.clock.now()));
    await p.localBus?.idle();
    await tamper(p.db, `update audit_logs set ip = '198.51.100.66' where org_id = '${orgId}' and seq = 1`);
    const verify = await app.request('GET', `/api/orgs/${orgId}/audit/verify`, { token: owner.token });
    expect(verify.status).toBe(200);
    expect(verify.body).toMatchObject({
      valid: false,
      brokenAtSeq: 1,
      reason: 'hash_mismatch',
      checkpoint: { seq: 1, signatureValid: true },
    });
  });
});
