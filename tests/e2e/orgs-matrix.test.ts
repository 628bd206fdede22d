import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginRoutes } from '../../functions/login/routes.js';
import { orgsRoutes } from '../../functions/orgs/routes.js';
import { type AnyRoute, type Role, roles } from '../../shared/http/route.js';
import { ScimTokenService } from '../../shared/scim/tokens.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { insertSsoConfig } from '../helpers/db.js';
import { issueApiKey } from '../helpers/keys.js';
import { type FakeProvider, startFakeProvider } from '../helpers/oidc.js';
import {
  createOrg,
  grantMembership,
  insertInvitation,
  insertSession,
  insertUser,
  newUser,
  orgTestEnv,
  sudoToken,
  type TestUser,
} from '../helpers/orgs.js';
import '../../shared/webhooks/tables.js';

/**
 * The role × route matrix, generated from ONE table: every org route, its minimum role as
 * API.md states it, and a request that succeeds for anyone allowed. Every route is called by a
 * viewer, member, admin and owner of the org, by a member of another org, and with no
 * credential; each answer's exact status and code is asserted.
 */
interface Fixture {
  app: TestApp;
  orgId: string;
}

interface MatrixRow {
  method: string;
  path: string;
  minRole: Role;
  /** Whether an org API key may call it (the keys issue fills the API-key column below). */
  apiKeys: boolean;
  success: number;
  request: (f: Fixture) => Promise<{ path: string; body?: unknown }>;
}

const table: MatrixRow[] = [
  {
    method: 'GET',
    path: '/api/orgs/:orgId/members',
    minRole: 'viewer',
    apiKeys: true,
    success: 200,
    request: async ({ orgId }) => ({ path: `/api/orgs/${orgId}/members` }),
  },
  {
    method: 'POST',
    path: '/api/orgs/:orgId/invitations',
    minRole: 'admin',
    apiKeys: false,
    success: 201,
    request: async ({ orgId }) => ({
      path: `/api/orgs/${orgId}/invitations`,
      body: { email: `invitee-${Math.random().toString(36).slice(2)}@example.com`, role: 'viewer' },
    }),
  },
  {
    method: 'PATCH',
    path: '/api/orgs/:orgId/members/:userId',
    minRole: 'admin',
    apiKeys: false,
    success: 200,
    request: async ({ app, orgId }) => {
      const target = await insertUser(app, 'patched');
      await grantMembership(app, orgId, target.userId, 'viewer');
      return { path: `/api/orgs/${orgId}/members/${target.userId}`, body: { role: 'member' } };
    },
  },
  {
    method: 'DELETE',
    path: '/api/orgs/:orgId/members/:userId',
    minRole: 'admin',
    apiKeys: false,
    success: 204,
    request: async ({ app, orgId }) => {
      const target = await insertUser(app, 'removed');
      await grantMembership(app, orgId, target.userId, 'viewer');
      return { path: `/api/orgs/${orgId}/members/${target.userId}` };
    },
  },
  {
    method: 'GET',
    path: '/api/orgs/:orgId/policy',
    minRole: 'viewer',
    apiKeys: true,
    success: 200,
    request: async ({ orgId }) => ({ path: `/api/orgs/${orgId}/policy` }),
  },
  {
    method: 'PATCH',
    path: '/api/orgs/:orgId/policy',
    minRole: 'admin',
    apiKeys: false,
    success: 200,
    request: async ({ orgId }) => ({ path: `/api/orgs/${orgId}/policy`, body: { requireMfa: false } }),
  },
  {
    method: 'GET',
    path: '/api/orgs/:orgId/sessions',
    minRole: 'admin',
    apiKeys: true,
    success: 200,
    request: async ({ orgId }) => ({ path: `/api/orgs/${orgId}/sessions` }),
  },
  {
    method: 'DELETE',
    path: '/api/orgs/:orgId/sessions/:id',
    minRole: 'admin',
    apiKeys: false,
    success: 204,
    request: async ({ app, orgId }) => {
      const target = await insertUser(app, 'revoked');
      await grantMembership(app, orgId, target.userId, 'viewer');
      const session = await insertSession(app, target.userId, orgId);
      return { path: `/api/orgs/${orgId}/sessions/${session.id}` };
    },
  },
  {
    method: 'GET',
    path: '/api/orgs/:orgId/invitations',
    minRole: 'admin',
    apiKeys: true,
    success: 200,
    request: async ({ orgId }) => ({ path: `/api/orgs/${orgId}/invitations` }),
  },
  {
    method: 'DELETE',
    path: '/api/orgs/:orgId/invitations/:id',
    minRole: 'admin',
    apiKeys: false,
    success: 204,
    request: async ({ app, orgId }) => {
      const invitation = await insertInvitation(app, orgId);
      return { path: `/api/orgs/${orgId}/invitations/${invitation.id}` };
    },
  },
];

/**
 * Deleting the org would end every other row's org, so each call deletes an org of its own, where
 * the same people hold the same roles (deletionUsers, filled in below).
 */
const deletionUsers = new Map<Role, TestUser>();
/** A fresh org where the stepped-up people hold their roles. */
async function steppedUpOrg(app: TestApp) {
  const owner = deletionUsers.get('owner') as TestUser;
  const org = await createOrg(app, owner);
  for (const role of ['viewer', 'member', 'admin'] as const) {
    await grantMembership(app, org.id, (deletionUsers.get(role) as TestUser).userId, role);
  }
  return org;
}
/** The org routes that need step-up: deleting the org, and SCIM tokens (issue 24). */
const deletionTable: MatrixRow[] = [
  {
    method: 'DELETE',
    path: '/api/orgs/:orgId',
    minRole: 'owner',
    apiKeys: false,
    success: 202,
    request: async ({ app }) => {
      const org = await steppedUpOrg(app);
      return { path: `/api/orgs/${org.id}`, body: { confirmSlug: org.slug } };
    },
  },
  {
    method: 'POST',
    path: '/api/orgs/:orgId/scim-tokens',
    minRole: 'owner',
    apiKeys: false,
    success: 201,
    request: async ({ app }) => {
      const org = await steppedUpOrg(app);
      return { path: `/api/orgs/${org.id}/scim-tokens`, body: { name: 'Okta' } };
    },
  },
  {
    method: 'GET',
    path: '/api/orgs/:orgId/scim-tokens',
    minRole: 'admin',
    apiKeys: false,
    success: 200,
    request: async ({ app }) => ({ path: `/api/orgs/${(await steppedUpOrg(app)).id}/scim-tokens` }),
  },
  {
    method: 'DELETE',
    path: '/api/orgs/:orgId/scim-tokens/:id',
    minRole: 'owner',
    apiKeys: false,
    success: 204,
    request: async ({ app }) => {
      const org = await steppedUpOrg(app);
      const issued = await new ScimTokenService(app.runtime.platform.db).issue(
        org.id,
        'to revoke',
        { userId: (deletionUsers.get('owner') as TestUser).userId, ip: null },
        app.runtime.platform.clock.now(),
      );
      return { path: `/api/orgs/${org.id}/scim-tokens/${issued.id}` };
    },
  },
];

/**
 * Webhook endpoints (admin; changes stepped up). Every caller below is stepped up, so only the role
 * decides; each call that needs an endpoint or a delivery gets one of its own, written directly.
 */
const webhookUrl = 'http://127.0.0.1:9/matrix';
async function ensureEndpoint(app: TestApp, orgId: string): Promise<string> {
  const id = randomUUID();
  const now = app.runtime.platform.clock.now();
  await app.runtime.platform.db
    .insertInto('webhook_endpoints')
    .values({
      id,
      org_id: orgId,
      url: webhookUrl,
      format: 'standard',
      events: JSON.stringify(['webhook.test']),
      // Disabled, so the runtime never posts anywhere for these rows.
      enabled: false,
      disabled_reason: 'admin',
      secret_sealed: 'x.unreadable',
      created_at: now,
      updated_at: now,
    })
    .execute();
  return id;
}
async function ensureDelivery(app: TestApp, orgId: string, endpointId: string): Promise<string> {
  const id = randomUUID();
  const now = app.runtime.platform.clock.now();
  await app.runtime.platform.db
    .insertInto('webhook_deliveries')
    .values({
      id,
      endpoint_id: endpointId,
      org_id: orgId,
      event_id: randomUUID(),
      type: 'policy.updated',
      payload: JSON.stringify({ type: 'policy.updated', timestamp: now.toISOString(), data: {} }),
      status: 'failed',
      created_at: now,
      finished_at: now,
    })
    .execute();
  return id;
}
const webhookTable: MatrixRow[] = [
  {
    method: 'POST',
    path: '/api/orgs/:orgId/webhooks',
    minRole: 'admin',
    apiKeys: false,
    success: 201,
    request: async ({ orgId }) => ({
      path: `/api/orgs/${orgId}/webhooks`,
      body: { url: webhookUrl, events: ['webhook.test'], format: 'standard' },
    }),
  },
  {
    method: 'GET',
    path: '/api/orgs/:orgId/webhooks',
    minRole: 'admin',
    apiKeys: true,
    success: 200,
    request: async ({ orgId }) => ({ path: `/api/orgs/${orgId}/webhooks` }),
  },
  {
    method: 'GET',
    path: '/api/orgs/:orgId/webhooks/:id',
    minRole: 'admin',
    apiKeys: true,
    success: 200,
    request: async ({ app, orgId }) => ({
      path: `/api/orgs/${orgId}/webhooks/${await ensureEndpoint(app, orgId)}`,
    }),
  },
  {
    method: 'PATCH',
    path: '/api/orgs/:orgId/webhooks/:id',
    minRole: 'admin',
    apiKeys: false,
    success: 200,
    request: async ({ app, orgId }) => ({
      path: `/api/orgs/${orgId}/webhooks/${await ensureEndpoint(app, orgId)}`,
      body: { description: 'matrix' },
    }),
  },
  {
    method: 'DELETE',
    path: '/api/orgs/:orgId/webhooks/:id',
    minRole: 'admin',
    apiKeys: false,
    success: 204,
    request: async ({ app, orgId }) => ({
      path: `/api/orgs/${orgId}/webhooks/${await ensureEndpoint(app, orgId)}`,
    }),
  },
  {
    method: 'POST',
    path: '/api/orgs/:orgId/webhooks/:id/rotate-secret',
    minRole: 'admin',
    apiKeys: false,
    success: 200,
    request: async ({ app, orgId }) => ({
      path: `/api/orgs/${orgId}/webhooks/${await ensureEndpoint(app, orgId)}/rotate-secret`,
    }),
  },
  {
    method: 'POST',
    path: '/api/orgs/:orgId/webhooks/:id/test',
    minRole: 'admin',
    apiKeys: false,
    success: 202,
    request: async ({ app, orgId }) => ({
      path: `/api/orgs/${orgId}/webhooks/${await ensureEndpoint(app, orgId)}/test`,
    }),
  },
  {
    method: 'GET',
    path: '/api/orgs/:orgId/webhooks/:id/deliveries',
    minRole: 'admin',
    apiKeys: true,
    success: 200,
    request: async ({ app, orgId }) => ({
      path: `/api/orgs/${orgId}/webhooks/${await ensureEndpoint(app, orgId)}/deliveries`,
    }),
  },
  {
    method: 'POST',
    path: '/api/orgs/:orgId/webhooks/:id/deliveries/:deliveryId/retry',
    minRole: 'admin',
    apiKeys: false,
    success: 202,
    request: async ({ app, orgId }) => {
      const endpointId = await ensureEndpoint(app, orgId);
      const deliveryId = await ensureDelivery(app, orgId, endpointId);
      return { path: `/api/orgs/${orgId}/webhooks/${endpointId}/deliveries/${deliveryId}/retry` };
    },
  },
];

type Caller = Role | 'nonMember' | 'anonymous' | 'apiKeyOfOtherOrg' | 'lapsedAdminKey';

function expected(row: MatrixRow, caller: Caller): { status: number; code?: string } {
  if (caller === 'anonymous') return { status: 401, code: 'UNAUTHENTICATED' };
  if (caller === 'nonMember') return { status: 404, code: 'NOT_FOUND' };
  // Another org's key: 404 where keys are admitted, 401 where the route takes sessions only.
  if (caller === 'apiKeyOfOtherOrg') {
    return row.apiKeys ? { status: 404, code: 'NOT_FOUND' } : { status: 401, code: 'UNAUTHENTICATED' };
  }
  // This org's admin key, made by an admin whose membership has since expired: no key at all.
  if (caller === 'lapsedAdminKey') return { status: 401, code: 'UNAUTHENTICATED' };
  if (roles.indexOf(caller) < roles.indexOf(row.minRole)) return { status: 403, code: 'INSUFFICIENT_ROLE' };
  return { status: row.success };
}

/** The table names exactly the unit's org routes, each with the role and API-key admission it declares. */
function expectTableCovers(routes: AnyRoute<never>[], rows: MatrixRow[]) {
  const orgRoutes = routes.filter((r) => r.auth.kind === 'org');
  expect(orgRoutes.map((r) => `${r.method} ${r.path}`).sort()).toEqual(
    rows.map((r) => `${r.method} ${r.path}`).sort(),
  );
  for (const route of orgRoutes) {
    const row = rows.find((r) => r.method === route.method && r.path === route.path);
    expect(route.auth).toMatchObject({ kind: 'org', minRole: row?.minRole });
    expect(route.auth.kind === 'org' && route.auth.apiKeys !== false).toBe(row?.apiKeys);
  }
}

/** Calls one row's route with `token` (none when undefined) and checks the exact status and code. */
async function expectAnswer(
  row: MatrixRow,
  orgId: string,
  token: string | undefined,
  want: { status: number; code?: string },
) {
  const request = await row.request({ app, orgId });
  const response = await app.request(row.method, request.path, {
    ...(token ? { token } : {}),
    ...(request.body !== undefined ? { body: request.body } : {}),
  });
  expect(response.status, response.text).toBe(want.status);
  if (want.code) expect(response.body.error.code).toBe(want.code);
}

/** One test per (row, caller): the exact answer `expected` names, with that caller's credential. */
function matrixCases(rows: MatrixRow[], credentialOf: Map<Caller, string | undefined>) {
  const callers: Caller[] = [
    'viewer',
    'member',
    'admin',
    'owner',
    'nonMember',
    'anonymous',
    'apiKeyOfOtherOrg',
    'lapsedAdminKey',
  ];
  for (const row of rows) {
    for (const caller of callers) {
      const want = expected(row, caller);
      it(`${row.method} ${row.path} as ${caller} answers ${want.status}${want.code ? ` ${want.code}` : ''}`, () =>
        expectAnswer(row, orgId, credentialOf.get(caller), want));
    }
  }
}

let app: TestApp;
let orgId: string;
/** Credential per caller; `undefined` sends none. */
const credentials = new Map<Caller, string | undefined>();
/** The API-key column ("API key of another org"): an admin key (sf_live_…) issued for the other org. */
const apiKeyOfOtherOrg = (app: TestApp, otherOrgId: string): Promise<string> => issueApiKey(app, otherOrgId);

/** An admin key of `orgId` issued by an admin whose membership then lapsed (its expiry passed). */
async function lapsedAdminKey(app: TestApp, orgId: string): Promise<string> {
  const admin = await newUser(app, 'lapsed-admin');
  await grantMembership(app, orgId, admin.userId, 'admin');
  const issued = await app.request('POST', `/api/orgs/${orgId}/keys`, {
    token: admin.token,
    body: { name: 'lapsed', role: 'admin' },
  });
  expect(issued.status, issued.text).toBe(201);
  await app.runtime.platform.db
    .updateTable('memberships')
    .set({ expires_at: new Date(app.runtime.platform.clock.now().getTime() - 1000) })
    .where('org_id', '=', orgId)
    .where('user_id', '=', admin.userId)
    .execute();
  return issued.body.key;
}

beforeAll(async () => {
  app = await startTestApp({ env: orgTestEnv });
  const owner = await newUser(app, 'owner');
  orgId = (await createOrg(app, owner)).id;
  credentials.set('owner', owner.token);
  for (const role of ['viewer', 'member', 'admin'] as const) {
    const user: TestUser = await newUser(app, role);
    await grantMembership(app, orgId, user.userId, role);
    credentials.set(role, user.token);
  }
  const outsider = await newUser(app, 'outsider');
  const otherOrg = await createOrg(app, outsider);
  credentials.set('nonMember', outsider.token);
  credentials.set('anonymous', undefined);
  credentials.set('apiKeyOfOtherOrg', await apiKeyOfOtherOrg(app, otherOrg.id));
  credentials.set('lapsedAdminKey', await lapsedAdminKey(app, orgId));
});
afterAll(async () => {
  await app?.stop();
});

describe('role × route matrix', () => {
  it('covers every org route of the orgs unit, with the auth each route declares', () => {
    expectTableCovers(orgsRoutes, [...table, ...deletionTable, ...webhookTable]);
  });

  matrixCases(table, credentials);
});

describe('role × route matrix: deleting the org and SCIM tokens (stepped up)', () => {
  const deletionCredentials = new Map<Caller, string | undefined>();
  beforeAll(async () => {
    for (const role of roles) {
      const user = await newUser(app, `deleting-${role}`);
      deletionUsers.set(role, user);
      deletionCredentials.set(role, await sudoToken(app, user));
    }
    const outsider = await newUser(app, 'deleting-outsider');
    await createOrg(app, outsider);
    deletionCredentials.set('nonMember', await sudoToken(app, outsider));
    deletionCredentials.set('anonymous', undefined);
    deletionCredentials.set('apiKeyOfOtherOrg', credentials.get('apiKeyOfOtherOrg'));
    deletionCredentials.set('lapsedAdminKey', credentials.get('lapsedAdminKey'));
  });

  matrixCases(deletionTable, deletionCredentials);
});

/**
 * The login unit's org routes (single sign-on settings) in the same shape: every role of the org
 * stepped up, so only the role decides. Configuring the provider an org trusts is the owner's.
 */
describe('role × route matrix: SSO settings and domains (owner only)', () => {
  let fake: FakeProvider;
  let ssoOrgId: string;
  const ssoCredentials = new Map<Caller | 'apiKeyOfThisOrg', string | undefined>();

  /** A stored config to read or delete (set-up only; PUT below goes through discovery). */
  const ensureConfig = async (orgId: string) => {
    await insertSsoConfig(app.runtime.platform.db, {
      orgId,
      issuerUrl: fake.url,
      now: app.runtime.platform.clock.now(),
    });
    return orgId;
  };

  const ssoTable: MatrixRow[] = [
    {
      method: 'GET',
      path: '/api/orgs/:orgId/sso',
      minRole: 'owner',
      apiKeys: false,
      success: 200,
      request: async ({ orgId }) => ({ path: `/api/orgs/${await ensureConfig(orgId)}/sso` }),
    },
    {
      method: 'PUT',
      path: '/api/orgs/:orgId/sso',
      minRole: 'owner',
      apiKeys: false,
      success: 200,
      request: async ({ orgId }) => ({
        path: `/api/orgs/${orgId}/sso`,
        body: {
          issuerUrl: fake.url,
          clientId: fake.clientId,
          clientSecret: 'a-secret',
          allowedDomains: ['acme.test'],
          defaultRole: 'member',
          passwordLoginAllowed: true,
        },
      }),
    },
    {
      method: 'DELETE',
      path: '/api/orgs/:orgId/sso',
      minRole: 'owner',
      apiKeys: false,
      success: 204,
      request: async ({ orgId }) => ({ path: `/api/orgs/${await ensureConfig(orgId)}/sso` }),
    },
    {
      method: 'POST',
      path: '/api/orgs/:orgId/domains',
      minRole: 'owner',
      apiKeys: false,
      success: 201,
      request: async ({ orgId }) => ({ path: `/api/orgs/${orgId}/domains`, body: { domain: nextDomain() } }),
    },
    {
      method: 'GET',
      path: '/api/orgs/:orgId/domains',
      minRole: 'owner',
      apiKeys: false,
      success: 200,
      request: async ({ orgId }) => ({ path: `/api/orgs/${orgId}/domains` }),
    },
    {
      // Already verified: the route answers without asking DNS (the DNS path is in sso-domains.test.ts).
      method: 'POST',
      path: '/api/orgs/:orgId/domains/:domain/verify',
      minRole: 'owner',
      apiKeys: false,
      success: 200,
      request: async ({ orgId }) => ({
        path: `/api/orgs/${orgId}/domains/${await ensureDomain(orgId)}/verify`,
      }),
    },
    {
      method: 'DELETE',
      path: '/api/orgs/:orgId/domains/:domain',
      minRole: 'owner',
      apiKeys: false,
      success: 204,
      request: async ({ orgId }) => ({ path: `/api/orgs/${orgId}/domains/${await ensureDomain(orgId)}` }),
    },
  ];

  let domains = 0;
  const nextDomain = () => `matrix-${++domains}-${Date.now()}.test`;
  /** A verified domain of the org, written directly (set-up only). */
  const ensureDomain = async (orgId: string) => {
    const domain = nextDomain();
    await app.runtime.platform.db
      .insertInto('org_domains')
      .values({
        org_id: orgId,
        domain,
        txt_token: 'matrix-token',
        verified_at: app.runtime.platform.clock.now(),
        created_by: null,
        created_at: app.runtime.platform.clock.now(),
      })
      .execute();
    return domain;
  };

  beforeAll(async () => {
    fake = await startFakeProvider();
    const owner = await newUser(app, 'sso-owner');
    ssoOrgId = (await createOrg(app, owner)).id;
    ssoCredentials.set('owner', await sudoToken(app, owner));
    for (const role of ['viewer', 'member', 'admin'] as const) {
      const user = await newUser(app, `sso-${role}`);
      await grantMembership(app, ssoOrgId, user.userId, role);
      ssoCredentials.set(role, await sudoToken(app, user));
    }
    const outsider = await newUser(app, 'sso-outsider');
    await createOrg(app, outsider);
    ssoCredentials.set('nonMember', await sudoToken(app, outsider));
    ssoCredentials.set('anonymous', undefined);
    ssoCredentials.set('apiKeyOfThisOrg', await issueApiKey(app, ssoOrgId, 'owner'));
  });
  afterAll(async () => {
    await fake?.stop();
  });

  it('covers every org route of the login unit, with the auth each route declares', () => {
    expectTableCovers(loginRoutes, ssoTable);
  });

  const ssoCallers = [
    'viewer',
    'member',
    'admin',
    'owner',
    'nonMember',
    'anonymous',
    'apiKeyOfThisOrg',
  ] as const;
  for (const row of ssoTable) {
    for (const caller of ssoCallers) {
      // An API key, even the org's own owner key, never configures SSO: 401 as on every session-only route.
      const want =
        caller === 'apiKeyOfThisOrg' ? { status: 401, code: 'UNAUTHENTICATED' } : expected(row, caller);
      it(`${row.method} ${row.path} as ${caller} answers ${want.status}${want.code ? ` ${want.code}` : ''}`, () =>
        expectAnswer(row, ssoOrgId, ssoCredentials.get(caller), want));
    }
  }
});

describe('role × route matrix: webhooks (admin, stepped up)', () => {
  const webhookCredentials = new Map<Caller, string | undefined>();
  let webhookOrgId: string;
  beforeAll(async () => {
    const owner = await newUser(app, 'wh-owner');
    webhookOrgId = (await createOrg(app, owner)).id;
    webhookCredentials.set('owner', await sudoToken(app, owner));
    for (const role of ['viewer', 'member', 'admin'] as const) {
      const user = await newUser(app, `wh-${role}`);
      await grantMembership(app, webhookOrgId, user.userId, role);
      webhookCredentials.set(role, await sudoToken(app, user));
    }
    const outsider = await newUser(app, 'wh-outsider');
    await createOrg(app, outsider);
    webhookCredentials.set('nonMember', await sudoToken(app, outsider));
    webhookCredentials.set('anonymous', undefined);
    webhookCredentials.set('apiKeyOfOtherOrg', credentials.get('apiKeyOfOtherOrg'));
  });

  for (const row of webhookTable) {
    for (const caller of [
      'viewer',
      'member',
      'admin',
      'owner',
      'nonMember',
      'anonymous',
      'apiKeyOfOtherOrg',
    ] as const) {
      const want = expected(row, caller);
      it(`${row.method} ${row.path} as ${caller} answers ${want.status}${want.code ? ` ${want.code}` : ''}`, () =>
        expectAnswer(row, webhookOrgId, webhookCredentials.get(caller), want));
    }
  }
});
