import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendAudit } from '../../shared/audit/append.js';
import { cloudSqlAdmin } from '../../shared/backups/cloud-sql-admin.js';
import { RestoreDrill } from '../../shared/backups/restore-drill.js';
import type { DbHandle } from '../../shared/db/connect.js';
import { loadMigrations, migrate } from '../../shared/db/migrate.js';
import { createLogger } from '../../shared/log/logger.js';
import { testAuditService } from '../helpers/audit.js';
import {
  type CloneBackend,
  type FakeCloneAdmin,
  openInstance,
  serverQuery,
  startFakeCloneAdmin,
} from '../helpers/cloud-sql-clone.js';
import { insertOrg, openTestDatabase, testEngine } from '../helpers/db.js';

/**
 * The restore drill end to end on the tests' engine: on PostgreSQL the Admin API test server clones
 * with CREATE DATABASE … TEMPLATE, on PGlite (the embedded default) by copying the data directory,
 * so the drill's checks run on a real copy either way. A faithful copy passes, a copy whose audit
 * rows were edited fails, and a copy that lost the tail of a chain fails against the signed
 * checkpoint in the bucket.
 */
const project = 'drill-project';
const source = `drill_src_${randomBytes(4).toString('hex')}`;
const now = new Date('2026-08-01T04:00:00Z');
const backend: CloneBackend =
  testEngine === 'postgres'
    ? { kind: 'postgres' }
    : { kind: 'pglite', root: mkdtempSync(join(tmpdir(), 'sessionforge-drill-')) };
let fake: FakeCloneAdmin;
let record: DbHandle;
let audit: ReturnType<typeof testAuditService>;
const orgIds: string[] = [];

beforeAll(async () => {
  if (backend.kind === 'postgres') await serverQuery(`create database "${source}"`);
  const handle = await openInstance(backend, source);
  await migrate(handle);
  audit = testAuditService(handle.db);
  for (const slug of ['drilled-a', 'drilled-b']) orgIds.push(await insertOrg(handle.db, { slug, now }));
  await handle.db.transaction().execute(async (tx) => {
    for (const orgId of orgIds) {
      for (let i = 0; i < 3; i++) {
        await appendAudit(tx, {
          orgId,
          action: 'policy.updated',
          actor: { type: 'system', id: null },
          metadata: { step: i },
          now,
        });
      }
    }
    await audit.audit.checkpointMovedChains(tx, now);
  });
  // Both clones need the source idle (Cloud SQL clones a live instance; the test server cannot).
  await handle.close();
  fake = await startFakeCloneAdmin(project, backend);
  record = await openTestDatabase();
}, 120_000);

afterAll(async () => {
  await fake?.close();
  await record?.close();
  if (backend.kind === 'postgres') await serverQuery(`drop database if exists "${source}" with (force)`);
  else rmSync(backend.root, { recursive: true, force: true });
});

function drill() {
  const admin = cloudSqlAdmin({ baseUrl: fake.url, accessToken: async () => 'test-token' });
  return new RestoreDrill({
    db: record.db,
    admin,
    source: { project, instance: source },
    connect: (scratch) => openInstance(backend, scratch),
    checkpoints: audit.checkpoints,
    expectedMigrationVersion: loadMigrations().at(-1)?.version as string,
    now: () => now,
    sleep: async () => {},
    logger: createLogger('silent'),
  });
}

/** Changes the fresh copy as the migration owner would (the trigger disabled, like a restore gone wrong). */
function tamper(...statements: string[]) {
  fake.afterClone = async (scratch) => {
    const copy = await openInstance(backend, scratch);
    await copy.withSession(async (s) => {
      for (const statement of statements) await s.query(statement);
    });
    await copy.close();
  };
}

async function lastDrillAudit() {
  const row = await record.db
    .selectFrom('audit_logs')
    .select(['action', 'target_id'])
    .where('chain', '=', 'system:backups')
    .orderBy('seq', 'desc')
    .executeTakeFirstOrThrow();
  return row;
}

describe('the restore drill', () => {
  it('clones at a point in time, verifies every org chain against its signed checkpoint, records the run and deletes the copy', async () => {
    fake.afterClone = null;
    const result = await drill().run();
    expect(result).toMatchObject({ status: 'passed', failure: null, chainsVerified: 2 });
    expect(fake.requests.filter((r) => r.startsWith('POST'))).toEqual([
      `POST /v1/projects/${project}/instances/${source}/clone`,
    ]);
    expect(fake.live.size).toBe(0);
    const row = await record.db
      .selectFrom('restore_drills')
      .selectAll()
      .where('id', '=', result.id)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      status: 'passed',
      instance: source,
      point_in_time: new Date(now.getTime() - 10 * 60_000),
      point_in_time_age_seconds: 600,
      chains_verified: 2,
    });
    const counts = typeof row.row_counts === 'string' ? JSON.parse(row.row_counts) : row.row_counts;
    expect(counts).toMatchObject({ orgs: 2, audit_logs: 6 });
    expect(await lastDrillAudit()).toEqual({ action: 'backup.restore_drill_passed', target_id: result.id });
  });

  it('fails on a copy whose audit rows were edited', async () => {
    tamper(
      'alter table audit_logs disable trigger audit_logs_refuse_update_delete',
      `update audit_logs set metadata = '{"step": 99}' where org_id = '${orgIds[0]}' and seq = 2`,
    );
    const result = await drill().run();
    expect(result.status).toBe('failed');
    expect(result.failure).toContain('hash_mismatch');
    expect(fake.live.size).toBe(0);
    expect(await lastDrillAudit()).toEqual({ action: 'backup.restore_drill_failed', target_id: result.id });
  });

  it('fails on a copy that lost the tail of a chain, even with its head rewound to match', async () => {
    tamper(
      'alter table audit_logs disable trigger audit_logs_refuse_update_delete',
      `delete from audit_logs where org_id = '${orgIds[1]}' and seq = 3`,
      `update audit_chain_heads set seq = 2, hash = (select hash from audit_logs where org_id = '${orgIds[1]}' and seq = 2) where chain = 'org:${orgIds[1]}'`,
    );
    const result = await drill().run();
    expect(result.status).toBe('failed');
    expect(result.failure).toContain('missing_tail');
    expect(fake.live.size).toBe(0);
  });

  it('fails, and still cleans up, when the copy is at another migration version', async () => {
    tamper(`delete from schema_migrations where version = (select max(version) from schema_migrations)`);
    const result = await drill().run();
    expect(result).toMatchObject({ status: 'failed' });
    expect(result.failure).toContain('migration version');
    expect(fake.live.size).toBe(0);
  });

  it('tampering touched only the copies: the next faithful copy passes again', async () => {
    fake.afterClone = null;
    expect(await drill().run()).toMatchObject({ status: 'passed', chainsVerified: 2 });
    expect(fake.live.size).toBe(0);
    if (backend.kind === 'pglite') {
      // Only the source's data directory is left: every scratch copy was deleted.
      expect(readdirSync(backend.root)).toEqual([source]);
    }
  });
});
