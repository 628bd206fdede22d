import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock, HOUR_MS } from '../../shared/time/clock.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import {
  createOrg,
  expectError,
  grantMembership,
  newUser,
  orgTestEnv,
  sudoToken,
  type TestUser,
} from '../helpers/orgs.js';

/**
 * A membership that reaches its `expires_at` ends like a removal, though nothing runs at that
 * moment: the API keys and SCIM tokens the person made stop with it, on their next use.
 */
const clock = new FakeClock('2026-06-01T09:00:00Z');
let app: TestApp;
let owner: TestUser;

beforeAll(async () => {
  app = await startTestApp({ clock, env: orgTestEnv });
  owner = await newUser(app, 'owner');
});
afterAll(async () => {
  await app?.stop();
});

async function createKey(orgId: string, token: string, role: string) {
  const res = await app.request('POST', `/api/orgs/${orgId}/keys`, { token, body: { name: role, role } });
  expect(res.status, res.text).toBe(201);
  return res.body.key as string;
}

const members = (orgId: string, token: string) => app.request('GET', `/api/orgs/${orgId}/members`, { token });
const scimUsers = (token: string) => app.request('GET', '/api/scim/v2/Users', { token });

describe('a member whose membership expired', () => {
  it('loses the API keys they made: the key is refused once the membership lapses, the permanent owner’s key is not', async () => {
    const org = await createOrg(app, owner);
    const contractor = await newUser(app, 'contractor');
    await grantMembership(app, org.id, contractor.userId, 'admin', new Date(clock.now().getTime() + HOUR_MS));
    const contractorKey = await createKey(org.id, contractor.token, 'admin');
    const ownerKey = await createKey(org.id, owner.token, 'admin');
    expect((await members(org.id, contractorKey)).status).toBe(200);

    clock.advance(2 * HOUR_MS);
    expectError(await members(org.id, contractor.token), 403, 'INSUFFICIENT_ROLE');
    expectError(await members(org.id, contractorKey), 401, 'UNAUTHENTICATED');
    expect((await app.request('POST', '/api/keys/verify', { body: { key: contractorKey } })).body).toEqual({
      valid: false,
    });
    expect((await members(org.id, ownerKey)).status).toBe(200);
  });

  it('loses the SCIM tokens they made as an owner: the token is refused once the membership lapses', async () => {
    const org = await createOrg(app, owner);
    const temporaryOwner = await newUser(app, 'temp-owner');
    await grantMembership(
      app,
      org.id,
      temporaryOwner.userId,
      'owner',
      new Date(clock.now().getTime() + HOUR_MS),
    );
    const issued = await app.request('POST', `/api/orgs/${org.id}/scim-tokens`, {
      token: await sudoToken(app, temporaryOwner),
      body: { name: 'Okta' },
    });
    expect(issued.status, issued.text).toBe(201);
    expect((await scimUsers(issued.body.token)).status).toBe(200);

    clock.advance(2 * HOUR_MS);
    expect((await scimUsers(issued.body.token)).status).toBe(401);
  });
});
