import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendAudit } from '../../shared/audit/append.js';
import type { DbHandle } from '../../shared/db/connect.js';
import { fail } from '../../shared/errors/codes.js';
import { createAuthenticator, type OrgGate } from '../../shared/http/auth.js';
import type { Role } from '../../shared/http/route.js';
import { createHttpFunction } from '../../shared/http/router.js';
import { createLogger } from '../../shared/log/logger.js';
import type { SessionService } from '../../shared/sessions/service.js';
import type { SessionWithUser } from '../../shared/sessions/store.js';
import { tamper, testAuditService } from '../../tests/helpers/audit.js';
import { openTestDatabase } from '../../tests/helpers/db.js';
import { auditRoutes } from './routes.js';

/**
 * The org routes behind the real router and authenticator, with sessions and org membership
 * stubbed (the orgs domain provides the real gate): one token per role in one org.
 */
let handle: DbHandle;
let server: Server;
let base: string;
const orgId = randomUUID();
const otherOrgId = randomUUID();
const now = new Date('2026-04-01T10:00:00.000Z');
const roleOf: Record<string, Role> = {
  'viewer-token': 'viewer',
  'member-token': 'member',
  'admin-token': 'admin',
  'owner-token': 'owner',
};

function principal(token: string): SessionWithUser {
  return {
    session: { id: `s-${token}`, sudo_until: null } as SessionWithUser['session'],
    user: { id: `u-${token}`, email: `${token}@example.com`, name: token, disabledAt: null },
  };
}

beforeAll(async () => {
  handle = await openTestDatabase();
  const { audit } = testAuditService(handle.db);
  const sessions = {
    authenticate: async (token: string) =>
      token in roleOf
        ? { ok: true as const, value: principal(token) }
        : { ok: false as const, reason: 'unknown' },
    touch: async () => undefined,
  } as unknown as SessionService;
  const orgGate: OrgGate = {
    authorizeSession: async (found, id) =>
      id === orgId
        ? { ok: true, access: { orgId: id, role: roleOf[found.user.name] ?? 'viewer' } }
        : fail('NOT_FOUND'),
  };
  const fn = createHttpFunction('audit', auditRoutes, async () => ({
    deps: { audit },
    logger: createLogger('silent'),
    now: () => now,
    trustedProxyHops: 0,
    authenticate: createAuthenticator({ sessions, orgGate }),
  }));
  server = createServer((req, res) => void fn(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const actions = [
    'member.invited',
    'member.joined',
    'machine.added',
    'machine.deleted',
    'machine.added',
  ] as const;
  for (const [i, action] of actions.entries()) {
    await handle.db.transaction().execute((tx) =>
      appendAudit(tx, {
        orgId,
        action,
        actor: { type: i % 2 === 0 ? 'user' : 'api_key', id: i % 2 === 0 ? 'alice' : 'key-1' },
        target: { type: 'thing', id: `t-${i}` },
        metadata: { index: i },
        ip: '192.0.2.1',
        now: new Date(now.getTime() + i * 60_000),
      }),
    );
  }
  await handle.db.transaction().execute((tx) =>
    appendAudit(tx, {
      orgId: otherOrgId,
      action: 'machine.added',
      actor: { type: 'system', id: null },
      now,
    }),
  );
});
afterAll(async () => {
  await new Promise<void>((resolve) => server?.close(() => resolve()));
  await handle?.close();
});

async function get(path: string, token = 'admin-token') {
  const response = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, body: (await response.json()) as any };
}

describe('GET /api/orgs/:orgId/audit', () => {
  it('lists the org’s events newest first in the API shape', async () => {
    const { status, body } = await get(`/api/orgs/${orgId}/audit`);
    expect(status).toBe(200);
    expect(body.events.map((e: { seq: number }) => e.seq)).toEqual([5, 4, 3, 2, 1]);
    expect(body.nextCursor).toBeNull();
    expect(Object.keys(body.events[0]).sort()).toEqual(
      [
        'action',
        'actorId',
        'actorType',
        'createdAt',
        'hash',
        'id',
        'ip',
        'metadata',
        'prevHash',
        'seq',
        'targetId',
        'targetType',
      ].sort(),
    );
    expect(body.events[4]).toMatchObject({
      seq: 1,
      action: 'member.invited',
      actorType: 'user',
      actorId: 'alice',
      targetType: 'thing',
      targetId: 't-0',
      metadata: { index: 0 },
      ip: '192.0.2.1',
      createdAt: now.toISOString(),
      prevHash: '0'.repeat(64),
    });
    expect(body.events[3].prevHash).toBe(body.events[4].hash);
  });

  it('pages with a keyset cursor until nextCursor is null', async () => {
    const first = await get(`/api/orgs/${orgId}/audit?limit=2`);
    expect(first.body.events.map((e: { seq: number }) => e.seq)).toEqual([5, 4]);
    expect(first.body.nextCursor).toBe('4');
    const second = await get(`/api/orgs/${orgId}/audit?limit=2&cursor=${first.body.nextCursor}`);
    expect(second.body.events.map((e: { seq: number }) => e.seq)).toEqual([3, 2]);
    const third = await get(`/api/orgs/${orgId}/audit?limit=2&cursor=${second.body.nextCursor}`);
    expect(third.body.events.map((e: { seq: number }) => e.seq)).toEqual([1]);
    expect(third.body.nextCursor).toBeNull();
  });

  it('filters by action, actor and time window', async () => {
    const byAction = await get(`/api/orgs/${orgId}/audit?action=machine.added`);
    expect(byAction.body.events.map((e: { seq: number }) => e.seq)).toEqual([5, 3]);
    const byActor = await get(`/api/orgs/${orgId}/audit?actorId=key-1`);
    expect(byActor.body.events.map((e: { seq: number }) => e.seq)).toEqual([4, 2]);
    const since = new Date(now.getTime() + 60_000).toISOString();
    const until = new Date(now.getTime() + 3 * 60_000).toISOString();
    const window = await get(`/api/orgs/${orgId}/audit?since=${since}&until=${until}`);
    expect(window.body.events.map((e: { seq: number }) => e.seq)).toEqual([3, 2]);
  });

  it('answers 400 VALIDATION_FAILED for every bad query parameter', async () => {
    const bad = [
      'limit=0',
      'limit=201',
      'limit=ten',
      'cursor=abc',
      'cursor=0',
      'action=login.succeeded',
      'action=nope',
      'since=yesterday',
      `since=${now.toISOString()}&until=${now.toISOString()}`,
      'actorId=',
      'unknown=1',
    ];
    for (const query of bad) {
      const { status, body } = await get(`/api/orgs/${orgId}/audit?${query}`);
      expect(status, query).toBe(400);
      expect(body.error.code, query).toBe('VALIDATION_FAILED');
    }
  });

  it('is for admins and owners: viewers and members get 403 INSUFFICIENT_ROLE', async () => {
    for (const token of ['admin-token', 'owner-token']) {
      expect((await get(`/api/orgs/${orgId}/audit`, token)).status).toBe(200);
      expect((await get(`/api/orgs/${orgId}/audit/verify`, token)).status).toBe(200);
    }
    for (const token of ['viewer-token', 'member-token']) {
      for (const path of [`/api/orgs/${orgId}/audit`, `/api/orgs/${orgId}/audit/verify`]) {
        const { status, body } = await get(path, token);
        expect(status).toBe(403);
        expect(body.error.code).toBe('INSUFFICIENT_ROLE');
      }
    }
  });

  it('answers 404 for an org the caller is not in, and 401 without a session', async () => {
    for (const path of [`/api/orgs/${otherOrgId}/audit`, `/api/orgs/${otherOrgId}/audit/verify`]) {
      const { status, body } = await get(path);
      expect(status).toBe(404);
      expect(body.error.code).toBe('NOT_FOUND');
    }
    const anonymous = await fetch(`${base}/api/orgs/${orgId}/audit`);
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as any).error.code).toBe('UNAUTHENTICATED');
  });
});

describe('GET /api/orgs/:orgId/audit/verify', () => {
  it('reports a valid chain, then the first bad seq once a row is edited', async () => {
    const intact = await get(`/api/orgs/${orgId}/audit/verify`);
    expect(intact.status).toBe(200);
    expect(intact.body).toMatchObject({
      valid: true,
      count: 5,
      brokenAtSeq: null,
      reason: null,
      checkpoint: null,
    });
    await tamper(
      handle.db,
      `update audit_logs set actor_id = 'mallory' where org_id = '${orgId}' and seq = 3`,
    );
    const broken = await get(`/api/orgs/${orgId}/audit/verify`);
    expect(broken.status).toBe(200);
    expect(broken.body).toEqual({
      valid: false,
      count: 5,
      headHash: intact.body.headHash,
      brokenAtSeq: 3,
      reason: 'hash_mismatch',
      checkpoint: null,
    });
  });
});
