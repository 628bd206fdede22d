import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestAuditService, tamper, testAuditService } from '../../tests/helpers/audit.js';
import { openTestDatabase } from '../../tests/helpers/db.js';
import type { DbHandle } from '../db/connect.js';
import { memoryLogger } from '../log/logger.js';
import { appendAudit, appendAuditBatch } from './append.js';
import { GENESIS_HASH, linkRows, orgChain, userChain } from './chain.js';
import { checkpointKey, checkpointSignatureValid, signedCheckpointSchema } from './checkpoint.js';
import { AuditStore } from './store.js';

let handle: DbHandle;
let t: TestAuditService;
const now = new Date('2026-03-01T12:00:00.000Z');

beforeAll(async () => {
  handle = await openTestDatabase();
  t = testAuditService(handle.db);
});
afterAll(async () => {
  await handle?.close();
});

/** Appends `count` events to a new org's chain and returns the org id. */
async function orgWithEvents(count: number): Promise<string> {
  const orgId = randomUUID();
  for (let i = 0; i < count; i++) {
    await handle.db.transaction().execute((tx) =>
      appendAudit(tx, {
        orgId,
        action: 'machine.added',
        actor: { type: 'user', id: `user-${i}` },
        target: { type: 'machine', id: `m-${i}` },
        metadata: { hostname: `host-${i}`, index: i, note: 'ünïcødé € 😀', nested: { b: 1, a: [1.5, 'x'] } },
        ip: '203.0.113.7',
        now: new Date(now.getTime() + i * 1000),
      }),
    );
  }
  return orgId;
}

async function signAll() {
  return handle.db.transaction().execute((tx) => t.audit.checkpointMovedChains(tx, now));
}

describe('the append-only guard (migration 0004)', () => {
  it('refuses a plain UPDATE, DELETE and TRUNCATE of audit rows', async () => {
    const orgId = await orgWithEvents(1);
    await expect(
      sql`update audit_logs set action = 'member.removed' where org_id = ${orgId}`.execute(handle.db),
    ).rejects.toThrow(/append-only: UPDATE refused/);
    await expect(sql`delete from audit_logs where org_id = ${orgId}`.execute(handle.db)).rejects.toThrow(
      /append-only: DELETE refused/,
    );
    await expect(sql`truncate audit_logs`.execute(handle.db)).rejects.toThrow(
      /append-only: TRUNCATE refused/,
    );
    const left = await handle.db
      .selectFrom('audit_logs')
      .select('action')
      .where('org_id', '=', orgId)
      .execute();
    expect(left).toEqual([{ action: 'machine.added' }]);
  });

  it('grants the application role INSERT and SELECT on audit rows, never UPDATE or DELETE', async () => {
    const privileges = await sql<{ privilege: string; granted: boolean }>`
      select p as privilege, has_table_privilege('sessionforge_app', 'audit_logs', p) as granted
      from unnest(array['INSERT', 'SELECT', 'UPDATE', 'DELETE', 'TRUNCATE']) as p`.execute(handle.db);
    expect(Object.fromEntries(privileges.rows.map((r) => [r.privilege, r.granted]))).toEqual({
      INSERT: true,
      SELECT: true,
      UPDATE: false,
      DELETE: false,
      TRUNCATE: false,
    });
  });
});

describe('appending', () => {
  it('links each row to the previous one, starting from the genesis hash', async () => {
    const orgId = await orgWithEvents(3);
    const rows = await handle.db
      .selectFrom('audit_logs')
      .select(['seq', 'prev_hash', 'hash'])
      .where('chain', '=', orgChain(orgId))
      .orderBy('seq')
      .execute();
    expect(rows.map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(rows[0]?.prev_hash).toBe(GENESIS_HASH);
    expect(rows[1]?.prev_hash).toBe(rows[0]?.hash);
    expect(rows[2]?.prev_hash).toBe(rows[1]?.hash);
  });

  it('50 concurrent appenders to one org produce one gap-free chain that verifies', async () => {
    const orgId = randomUUID();
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        handle.db.transaction().execute((tx) =>
          appendAudit(tx, {
            orgId,
            action: 'session.started',
            actor: { type: 'system', id: null },
            metadata: { writer: i },
            now,
          }),
        ),
      ),
    );
    const seqs = await handle.db
      .selectFrom('audit_logs')
      .select('seq')
      .where('chain', '=', orgChain(orgId))
      .orderBy('seq')
      .execute();
    expect(seqs.map((r) => r.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    const report = await t.audit.verify(orgChain(orgId));
    expect(report).toMatchObject({ valid: true, count: 50, brokenAtSeq: null, reason: null });
  });

  it('a row whose change rolled back does not exist, and the chain continues without a gap', async () => {
    const orgId = await orgWithEvents(1);
    await expect(
      handle.db.transaction().execute(async (tx) => {
        await appendAudit(tx, {
          orgId,
          action: 'member.removed',
          actor: { type: 'user', id: 'admin' },
          now,
        });
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    const actions = await handle.db
      .selectFrom('audit_logs')
      .select(['seq', 'action'])
      .where('chain', '=', orgChain(orgId))
      .orderBy('seq')
      .execute();
    expect(actions).toEqual([{ seq: 1, action: 'machine.added' }]);
    await handle.db
      .transaction()
      .execute((tx) =>
        appendAudit(tx, { orgId, action: 'machine.deleted', actor: { type: 'system', id: null }, now }),
      );
    const report = await t.audit.verify(orgChain(orgId));
    expect(report).toMatchObject({ valid: true, count: 2 });
  });

  it('refuses metadata that does not fit the action’s schema or cannot round-trip through jsonb', async () => {
    const orgId = randomUUID();
    await expect(
      appendAudit(handle.db, {
        orgId,
        action: 'recording.archived',
        actor: { type: 'system', id: null },
        metadata: { sizeBytes: -1, sha256: 'nope' },
        now,
      }),
    ).rejects.toThrow(/metadata for recording.archived is invalid/);
    await expect(
      appendAudit(handle.db, {
        orgId,
        action: 'policy.updated',
        actor: { type: 'system', id: null },
        metadata: { text: 'a\u0000b' },
        now,
      }),
    ).rejects.toThrow(/metadata for policy.updated is invalid/);
    await expect(
      appendAudit(handle.db, {
        userId: randomUUID(),
        action: 'machine.added' as never,
        actor: { type: 'system', id: null },
        now,
      }),
    ).rejects.toThrow(/not in the closed list/);
  });
});

describe('appending a batch (appendAuditBatch)', () => {
  const machineEvent = (orgId: string, i: number) => ({
    orgId,
    action: 'machine.added' as const,
    actor: { type: 'api_key' as const, id: `key-${i}` },
    target: { type: 'machine', id: `m-${i}` },
    metadata: { hostname: `host-${i}`, note: 'ünïcødé 😀' },
    ip: '203.0.113.8',
    now: new Date(now.getTime() + i),
  });

  it('chains a batch in order, starts a new chain, and interleaves with single appends', async () => {
    const orgId = randomUUID();
    const first = await handle.db.transaction().execute((tx) =>
      appendAuditBatch(
        tx,
        [0, 1, 2].map((i) => machineEvent(orgId, i)),
      ),
    );
    expect(first.map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(first[0]?.prevHash).toBe(GENESIS_HASH);
    expect(first[1]?.prevHash).toBe(first[0]?.hash);
    await handle.db.transaction().execute((tx) => appendAudit(tx, machineEvent(orgId, 3)));
    const second = await handle.db.transaction().execute((tx) =>
      appendAuditBatch(
        tx,
        [4, 5].map((i) => machineEvent(orgId, i)),
      ),
    );
    expect(second.map((r) => r.seq)).toEqual([5, 6]);
    expect(await t.audit.verify(orgChain(orgId))).toMatchObject({ valid: true, count: 6 });
    expect(await handle.db.transaction().execute((tx) => appendAuditBatch(tx, []))).toEqual([]);
  });

  it('concurrent batches and single appends to one org still form one gap-free chain', async () => {
    const orgId = randomUUID();
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        handle.db.transaction().execute(
          async (tx): Promise<unknown> =>
            i % 3 === 0
              ? appendAudit(tx, machineEvent(orgId, i * 10))
              : appendAuditBatch(
                  tx,
                  [0, 1, 2].map((j) => machineEvent(orgId, i * 10 + j)),
                ),
        ),
      ),
    );
    expect(await t.audit.verify(orgChain(orgId))).toMatchObject({ valid: true, count: 4 + 8 * 3 });
  });

  it('refuses events of different chains in one batch, and writes nothing', async () => {
    const [a, b] = [randomUUID(), randomUUID()];
    await expect(
      handle.db.transaction().execute((tx) => appendAuditBatch(tx, [machineEvent(a, 0), machineEvent(b, 1)])),
    ).rejects.toThrow(/one chain/);
    expect(await new AuditStore(handle.db).head(orgChain(a))).toBeNull();
  });
});

describe('verify detects tampering done directly in the database', () => {
  it('an intact chain verifies, with its head hash and the latest checkpoint', async () => {
    const orgId = await orgWithEvents(4);
    await signAll();
    const report = await t.audit.verify(orgChain(orgId));
    const head = await handle.db
      .selectFrom('audit_chain_heads')
      .select('hash')
      .where('chain', '=', orgChain(orgId))
      .executeTakeFirstOrThrow();
    expect(report).toEqual({
      valid: true,
      count: 4,
      headHash: head.hash,
      brokenAtSeq: null,
      reason: null,
      checkpoint: {
        seq: 4,
        hash: head.hash,
        time: now.toISOString(),
        keyId: t.keys.keyId,
        signatureValid: true,
      },
    });
  });

  it('an edited row is named by its seq', async () => {
    const orgId = await orgWithEvents(10);
    await tamper(
      handle.db,
      `update audit_logs set metadata = '{"hostname":"evil"}' where org_id = '${orgId}' and seq = 4`,
    );
    expect(await t.audit.verify(orgChain(orgId))).toMatchObject({
      valid: false,
      count: 10,
      brokenAtSeq: 4,
      reason: 'hash_mismatch',
    });
  });

  it('an edited row whose hash was recomputed breaks the next row’s link', async () => {
    const orgId = await orgWithEvents(5);
    await tamper(
      handle.db,
      `update audit_logs set hash = repeat('a', 64) where org_id = '${orgId}' and seq = 2`,
    );
    expect(await t.audit.verify(orgChain(orgId))).toMatchObject({ valid: false, brokenAtSeq: 2 });
  });

  it('a deleted row is named as the first missing seq', async () => {
    const orgId = await orgWithEvents(10);
    await tamper(handle.db, `delete from audit_logs where org_id = '${orgId}' and seq = 5`);
    expect(await t.audit.verify(orgChain(orgId))).toMatchObject({
      valid: false,
      count: 9,
      brokenAtSeq: 5,
      reason: 'missing_rows',
    });
  });

  it('two reordered rows are named by the first position that changed', async () => {
    const orgId = await orgWithEvents(10);
    await tamper(
      handle.db,
      `update audit_logs set seq = -seq where org_id = '${orgId}' and seq in (3, 7)`,
      `update audit_logs set seq = case seq when -3 then 7 else 3 end where org_id = '${orgId}' and seq in (-3, -7)`,
    );
    expect(await t.audit.verify(orgChain(orgId))).toMatchObject({
      valid: false,
      count: 10,
      brokenAtSeq: 3,
      reason: 'prev_hash_mismatch',
    });
  });

  it('a truncated tail with a rolled-back head is caught by the latest signed checkpoint', async () => {
    const orgId = await orgWithEvents(10);
    await signAll();
    await tamper(
      handle.db,
      `delete from audit_logs where org_id = '${orgId}' and seq > 7`,
      `update audit_chain_heads set seq = 7, hash = (select hash from audit_logs where org_id = '${orgId}' and seq = 7)
         where chain = 'org:${orgId}'`,
    );
    const report = await t.audit.verify(orgChain(orgId));
    expect(report).toMatchObject({
      valid: false,
      count: 7,
      brokenAtSeq: 8,
      reason: 'missing_tail',
      checkpoint: { seq: 10, signatureValid: true },
    });
  });

  it('a truncated tail is caught by the chain head even before any checkpoint', async () => {
    const orgId = await orgWithEvents(6);
    await tamper(handle.db, `delete from audit_logs where org_id = '${orgId}' and seq > 4`);
    expect(await t.audit.verify(orgChain(orgId))).toMatchObject({
      valid: false,
      count: 4,
      brokenAtSeq: 5,
      reason: 'missing_tail',
      checkpoint: null,
    });
  });

  it('a chain rewritten consistently from an edited row on disagrees with the checkpoint', async () => {
    const orgId = await orgWithEvents(3);
    await signAll();
    // The attacker edits seq 1 and recomputes every later hash and the head with our own code.
    const rows = [];
    for await (const page of new AuditStore(handle.db).pages(orgChain(orgId), 0, 3)) rows.push(...page);
    const rewritten = linkRows(
      GENESIS_HASH,
      rows.map((row) => (row.seq === 1 ? { ...row, metadata: { hostname: 'rewritten' } } : row)),
    );
    const statements = rewritten.map(
      (row) =>
        `update audit_logs set metadata = '${JSON.stringify(row.metadata)}', prev_hash = '${row.prevHash}', hash = '${row.hash}' where id = '${row.id}'`,
    );
    statements.push(
      `update audit_chain_heads set hash = '${rewritten.at(-1)?.hash}' where chain = 'org:${orgId}'`,
    );
    await tamper(handle.db, ...statements);
    expect(await t.audit.verify(orgChain(orgId))).toMatchObject({
      valid: false,
      count: 3,
      brokenAtSeq: 3,
      reason: 'checkpoint_mismatch',
    });
  });

  it('a checkpoint with a forged signature makes the report invalid', async () => {
    const orgId = await orgWithEvents(2);
    await signAll();
    const key = checkpointKey(orgChain(orgId), 2);
    const stored = JSON.parse((await t.blobs.get(key))?.toString('utf8') ?? '{}');
    await t.blobs.put(key, JSON.stringify({ ...stored, hash: 'b'.repeat(64) }));
    expect(await t.audit.verify(orgChain(orgId))).toMatchObject({
      valid: false,
      brokenAtSeq: 2,
      reason: 'checkpoint_mismatch',
      checkpoint: { seq: 2, hash: 'b'.repeat(64), signatureValid: false },
    });
  });

  it('verify streams in pages: a page size smaller than the chain gives the same report', async () => {
    const orgId = await orgWithEvents(7);
    await tamper(handle.db, `delete from audit_logs where org_id = '${orgId}' and seq = 6`);
    const paged = await t.audit.verify(orgChain(orgId), 2);
    const whole = await t.audit.verify(orgChain(orgId));
    expect(paged).toEqual(whole);
    expect(paged).toMatchObject({ brokenAtSeq: 6, count: 6 });
  });
});

describe('signed checkpoints', () => {
  it('signs {chain, seq, hash, time} with Ed25519 for every chain that moved, and only those', async () => {
    const a = await orgWithEvents(2);
    const b = await orgWithEvents(1);
    await signAll();
    await handle.db
      .transaction()
      .execute((tx) =>
        appendAudit(tx, { orgId: a, action: 'machine.deleted', actor: { type: 'system', id: null }, now }),
      );
    const signed = await signAll();
    expect(signed.map((c) => [c.chain, c.seq])).toEqual([[orgChain(a), 3]]);
    expect(await signAll()).toEqual([]);

    const file = join(t.dataDir, 'blobs', 'audit-checkpoints', checkpointKey(orgChain(a), 3));
    const checkpoint = signedCheckpointSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
    expect(checkpoint).toMatchObject({
      chain: orgChain(a),
      seq: 3,
      time: now.toISOString(),
      keyId: t.keys.keyId,
    });
    expect(checkpointSignatureValid(checkpoint, t.keys.publicKey)).toBe(true);
    expect(checkpointSignatureValid({ ...checkpoint, seq: 2 }, t.keys.publicKey)).toBe(false);
    expect((await t.audit.verify(orgChain(b))).checkpoint?.seq).toBe(1);
  });

  it('does not vouch for a chain that no longer verifies, and raises an alert instead', async () => {
    const logger = memoryLogger();
    const withLog = testAuditService(handle.db, logger);
    const userId = randomUUID();
    await handle.db.transaction().execute((tx) =>
      appendAudit(tx, {
        userId,
        action: 'login.succeeded',
        actor: { type: 'user', id: userId },
        metadata: { method: 'password' },
        now,
      }),
    );
    await tamper(handle.db, `update audit_logs set ip = '198.51.100.1' where chain = 'user:${userId}'`);
    const signed = await handle.db
      .transaction()
      .execute((tx) => withLog.audit.checkpointMovedChains(tx, now));
    expect(signed.map((c) => c.chain)).not.toContain(userChain(userId));
    expect(logger.lines).toContainEqual(
      expect.objectContaining({ alert: 'audit-chain-broken', chain: userChain(userId), brokenAtSeq: 1 }),
    );
  });

  it('keeps checkpoints signed before a key rotation verifiable while the old key is listed as retired', async () => {
    const own = await openTestDatabase();
    try {
      const orgId = randomUUID();
      const append = (hostname: string) =>
        own.db.transaction().execute((tx) =>
          appendAudit(tx, {
            orgId,
            action: 'machine.added',
            actor: { type: 'user', id: 'u' },
            target: { type: 'machine', id: hostname },
            metadata: { hostname },
            now,
          }),
        );
      await append('before-rotation');
      const old = testAuditService(own.db);
      await own.db.transaction().execute((tx) => old.audit.checkpointMovedChains(tx, now));

      // Same bucket, new signing key, old public key trusted: the old checkpoint still counts.
      const rotated = testAuditService(own.db, undefined, {
        dataDir: old.dataDir,
        retired: [old.keys.publicKey],
      });
      expect(await rotated.audit.verify(orgChain(orgId))).toMatchObject({
        valid: true,
        checkpoint: { seq: 1, keyId: old.keys.keyId, signatureValid: true },
      });
      // An operator who drops the old key from the list no longer trusts what it signed.
      const forgotten = testAuditService(own.db, undefined, { dataDir: old.dataDir });
      expect(await forgotten.audit.verify(orgChain(orgId))).toMatchObject({
        valid: false,
        reason: 'checkpoint_signature_invalid',
        checkpoint: { seq: 1, keyId: old.keys.keyId, signatureValid: false },
      });

      // The next checkpoint is the new key's.
      await append('after-rotation');
      await own.db.transaction().execute((tx) => rotated.audit.checkpointMovedChains(tx, now));
      expect(await rotated.audit.verify(orgChain(orgId))).toMatchObject({
        valid: true,
        checkpoint: { seq: 2, keyId: rotated.keys.keyId, signatureValid: true },
      });
    } finally {
      await own.close();
    }
  });
});
