import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { insertOrg, openTestDatabase } from '../../tests/helpers/db.js';
import '../accounts/tables.js';
import '../audit/tables.js';
import { sha256 } from '../crypto/tokens.js';
import type { DbHandle } from '../db/connect.js';
import '../orgs/tables.js';
import { FakeClock, MINUTE_MS, SECOND_MS } from '../time/clock.js';
import { generateApiKey } from './format.js';
import { ApiKeyService, type KeyActor } from './service.js';
import { ApiKeyStore } from './store.js';

let handle: DbHandle;
let store: ApiKeyStore;
let keys: ApiKeyService;
const clock = new FakeClock('2026-03-02T09:00:00Z');
let orgId: string;
let otherOrgId: string;
let admin: KeyActor;

async function issue(role: KeyActor['role'] = 'viewer', expiresAt: Date | null = null, inOrg = orgId) {
  const result = await keys.issue(inOrg, { name: 'ci', role, expiresAt }, admin, clock.now());
  if (!result.ok) throw new Error(result.code);
  return result.issued;
}

beforeAll(async () => {
  handle = await openTestDatabase();
  store = new ApiKeyStore(handle.db);
  keys = new ApiKeyService(store);
  const user = await handle.db
    .insertInto('users')
    .values({
      email: 'admin@example.com',
      email_normalized: 'admin@example.com',
      name: 'Admin',
      email_verified_at: clock.now(),
      disabled_at: null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  admin = { userId: user.id, role: 'admin', inStepUp: false, ip: '192.0.2.7' };
  orgId = await insertOrg(handle.db, { slug: 'acme', now: clock.now() });
  otherOrgId = await insertOrg(handle.db, { slug: 'other', now: clock.now() });
  // Keys live only while their creator is a member (checked on every use).
  await handle.db
    .insertInto('memberships')
    .values(
      [orgId, otherOrgId].map((org_id) => ({
        org_id,
        user_id: user.id,
        role: 'admin' as const,
        expires_at: null,
        created_at: clock.now(),
      })),
    )
    .execute();
});
afterAll(async () => {
  await handle?.close();
});
beforeEach(() => {
  vi.restoreAllMocks();
});

describe('issuing keys', () => {
  it('stores only the SHA-256 of the key and a display prefix, and returns the key once', async () => {
    const issued = await issue('member');
    expect(issued.key).toMatch(/^sf_live_[0-9A-Za-z]{39}$/);
    expect(issued.prefix).toBe(issued.key.slice(0, 14));
    const row = await handle.db
      .selectFrom('api_keys')
      .selectAll()
      .where('id', '=', issued.id)
      .executeTakeFirstOrThrow();
    expect(row.key_hash.equals(sha256(issued.key))).toBe(true);
    expect(row.display_prefix).toBe(issued.prefix);
    expect(JSON.stringify(row)).not.toContain(issued.key.slice(14));
    const listed = await keys.list(orgId);
    expect(JSON.stringify(listed)).not.toContain(issued.key.slice(14));
  });

  it('audits api_key.created with the display prefix and never the key, on the org chain', async () => {
    const issued = await issue('viewer');
    const event = await handle.db
      .selectFrom('audit_logs')
      .selectAll()
      .where('target_id', '=', issued.id)
      .executeTakeFirstOrThrow();
    expect(event).toMatchObject({
      org_id: orgId,
      action: 'api_key.created',
      actor_type: 'user',
      actor_id: admin.userId,
      target_type: 'api_key',
      ip: '192.0.2.7',
    });
    expect(event.metadata).toEqual({ name: 'ci', role: 'viewer', prefix: issued.prefix, expiresAt: null });
    expect(JSON.stringify(event)).not.toContain(issued.key.slice(14));
  });

  it('writes no key when the audit append fails (one transaction)', async () => {
    const before = await handle.db.selectFrom('api_keys').select('id').execute();
    // NOT VALID: earlier rows keep their actions; only the next append is refused.
    await sql`alter table audit_logs add constraint no_keys_today check (action <> 'api_key.created') not valid`.execute(
      handle.db,
    );
    try {
      await expect(
        keys.issue(orgId, { name: 'x', role: 'viewer', expiresAt: null }, admin, clock.now()),
      ).rejects.toThrow();
    } finally {
      await handle.db.schema.alterTable('audit_logs').dropConstraint('no_keys_today').execute();
    }
    expect(await handle.db.selectFrom('api_keys').select('id').execute()).toHaveLength(before.length);
  });

  it('refuses a role above the caller, an owner key without step-up, and a past expiry', async () => {
    const tryIssue = (actor: KeyActor, role: KeyActor['role'], expiresAt: Date | null = null) =>
      keys.issue(orgId, { name: 'x', role, expiresAt }, actor, clock.now());
    expect(await tryIssue(admin, 'owner')).toMatchObject({ ok: false, code: 'INSUFFICIENT_ROLE' });
    const owner = { ...admin, role: 'owner' as const };
    expect(await tryIssue(owner, 'owner')).toMatchObject({ ok: false, code: 'STEP_UP_REQUIRED' });
    expect(await tryIssue({ ...owner, inStepUp: true }, 'owner')).toMatchObject({ ok: true });
    expect(await tryIssue(admin, 'viewer', clock.now())).toMatchObject({
      ok: false,
      code: 'VALIDATION_FAILED',
      issues: [{ path: 'expiresAt', message: 'must be in the future' }],
    });
  });
});

describe('verifying keys', () => {
  it('answers the org, role and id of a valid key', async () => {
    const issued = await issue('member');
    expect(await keys.verify(issued.key, clock.now())).toEqual({
      id: issued.id,
      orgId,
      role: 'member',
      name: 'ci',
    });
  });

  it('refuses malformed keys without a database call', async () => {
    const lookup = vi.spyOn(ApiKeyStore.prototype, 'findByHash');
    const touch = vi.spyOn(ApiKeyStore.prototype, 'touchLastUsed');
    const good = generateApiKey();
    for (const bad of [
      '',
      'sf_live_',
      `${good.slice(0, -1)}${good.endsWith('0') ? '1' : '0'}`,
      `${good}x`,
      'A'.repeat(43),
      `sf_live_${'A'.repeat(43)}`,
      good.replace('sf_live_', 'sf_test_'),
    ]) {
      expect(await keys.verify(bad, clock.now())).toBeNull();
    }
    expect(lookup).not.toHaveBeenCalled();
    expect(touch).not.toHaveBeenCalled();
  });

  it('refuses a well-formed key that was never issued (one lookup)', async () => {
    const lookup = vi.spyOn(ApiKeyStore.prototype, 'findByHash');
    expect(await keys.verify(generateApiKey(), clock.now())).toBeNull();
    expect(lookup).toHaveBeenCalledTimes(1);
  });

  it('refuses a revoked key on the very next use, and a second revoke answers NOT_FOUND', async () => {
    const issued = await issue();
    expect(await keys.verify(issued.key, clock.now())).not.toBeNull();
    expect(await keys.revoke(orgId, issued.id, admin, clock.now())).toMatchObject({ ok: true });
    expect(await keys.verify(issued.key, clock.now())).toBeNull();
    expect(await keys.revoke(orgId, issued.id, admin, clock.now())).toMatchObject({
      ok: false,
      code: 'NOT_FOUND',
    });
    expect((await keys.list(orgId)).map((k) => k.id)).not.toContain(issued.id);
  });

  it('refuses an expired key from its expiry instant on', async () => {
    const issued = await issue('viewer', new Date(clock.now().getTime() + 10 * MINUTE_MS));
    const start = clock.now().getTime();
    expect(await keys.verify(issued.key, new Date(start + 10 * MINUTE_MS - 1))).not.toBeNull();
    expect(await keys.verify(issued.key, new Date(start + 10 * MINUTE_MS))).toBeNull();
  });

  it("refuses a key from the instant its creator's membership lapses, and one above the creator's role", async () => {
    const issued = await issue('admin');
    const setCreator = (role: 'admin' | 'member', expiresAt: Date | null) =>
      handle.db
        .updateTable('memberships')
        .set({ role, expires_at: expiresAt })
        .where('org_id', '=', orgId)
        .where('user_id', '=', admin.userId)
        .execute();
    const start = clock.now().getTime();
    try {
      await setCreator('admin', new Date(start + 10 * MINUTE_MS));
      expect(await keys.verify(issued.key, new Date(start + 10 * MINUTE_MS - 1))).not.toBeNull();
      expect(await keys.verify(issued.key, new Date(start + 10 * MINUTE_MS))).toBeNull();
      await setCreator('member', null);
      expect(await keys.verify(issued.key, clock.now())).toBeNull();
    } finally {
      await setCreator('admin', null);
    }
  });

  it('writes last_used_at at most once a minute per key', async () => {
    const issued = await issue();
    const touch = vi.spyOn(ApiKeyStore.prototype, 'touchLastUsed');
    const lastUsed = async () =>
      (
        await handle.db
          .selectFrom('api_keys')
          .select('last_used_at')
          .where('id', '=', issued.id)
          .executeTakeFirstOrThrow()
      ).last_used_at;
    const t0 = clock.now().getTime();
    await keys.verify(issued.key, new Date(t0));
    expect(await lastUsed()).toEqual(new Date(t0));
    await keys.verify(issued.key, new Date(t0 + 59 * SECOND_MS));
    expect(touch).toHaveBeenCalledTimes(1);
    expect(await lastUsed()).toEqual(new Date(t0));
    await keys.verify(issued.key, new Date(t0 + 60 * SECOND_MS));
    expect(await lastUsed()).toEqual(new Date(t0 + 60 * SECOND_MS));
  });

  it('lets only one of many concurrent uses write last_used_at (conditional UPDATE)', async () => {
    const issued = await issue();
    const now = new Date(clock.now().getTime() + 5 * MINUTE_MS);
    const written = await Promise.all(Array.from({ length: 20 }, () => store.touchLastUsed(issued.id, now)));
    expect(written.filter(Boolean)).toHaveLength(1);
  });
});

describe('revoking keys', () => {
  it("answers NOT_FOUND for another org's key, an unknown id and a malformed id, and changes nothing", async () => {
    const foreign = await issue('viewer', null, otherOrgId);
    for (const id of [foreign.id, crypto.randomUUID(), 'not-a-uuid', "1' or '1'='1"]) {
      expect(await keys.revoke(orgId, id, admin, clock.now())).toMatchObject({
        ok: false,
        code: 'NOT_FOUND',
      });
    }
    expect(await keys.verify(foreign.key, clock.now())).toMatchObject({ orgId: otherOrgId });
  });

  it('audits api_key.deleted with the display prefix in the same transaction', async () => {
    const issued = await issue('member');
    await keys.revoke(orgId, issued.id, admin, clock.now());
    const event = await handle.db
      .selectFrom('audit_logs')
      .selectAll()
      .where('target_id', '=', issued.id)
      .where('action', '=', 'api_key.deleted')
      .executeTakeFirstOrThrow();
    expect(event).toMatchObject({ org_id: orgId, actor_id: admin.userId, target_type: 'api_key' });
    expect(event.metadata).toEqual({ name: 'ci', role: 'member', prefix: issued.prefix });
  });
});
