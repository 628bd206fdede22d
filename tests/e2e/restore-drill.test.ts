import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendAudit } from '../../shared/audit/append.js';
import { cloudSqlAdmin } from '../../shared/backups/cloud-sql-admin.js';
import { RestoreDrill } from '../../shared/backups/restore-drill.js';
import { type DbHandle, openDatabase } from '../../shared/db/connect.js';
import { loadMigrations, migrate } from '../../shared/db/migrate.js';
import { createLogger } from '../../shared/log/logger.js';
import { testAuditService } from '../helpers/audit.js';
import {
  databaseUrl,
  type FakeCloneAdmin,
  serverQuery,
  startFakeCloneAdmin,
} from '../helpers/cloud-sql-clone.js';
import { openTestDatabase } from '../helpers/db.js';

/**
 * The restore drill end to end on PostgreSQL (the Admin API test server clones with CREATE
 * DATABASE … TEMPLATE, so the drill's checks run on a real copy): a faithful copy passes, a copy
 * whose audit rows were edited fails, and a copy that lost the tail of a chain fails against the
 * signed checkpoint in the bucket.
 */
const project = 'drill-project';
const source = `drill_src_${randomBytes(4).toString('hex')}`;
const now = new Date('2026-08-01T04:00:00Z');
let fake: FakeCloneAdmin;
let record: DbHandle;
let audit: ReturnType<typeof testAuditService>;
const orgIds = [randomUUID(), randomUUID()];

beforeAll(async () => {
  await serverQuery(`create database "${source}"`);
  const handle = await openDatabase({ kind: 'postgres', url: databaseUrl(source), poolMax: 2 });
  await migrate(handle);
  audit = testAuditService(handle.db);
  await handle.db.transaction().execute(async (tx) => {
    for (const orgId of orgIds) {
      await tx
        .insertInto('orgs')
        .values({
          id: orgId,
          name: 'drilled',
          slug: `drilled-${orgId}`,
          enterprise: false,
          max_concurrent_sessions: null,
          idle_timeout_minutes: null,
          absolute_timeout_hours: null,
          require_mfa: false,
          on_session_limit: 'revoke_oldest',
          enforce_sso: false,
          allow_break_glass: false,
          created_at: now,
        })
        .execute();
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
  // CREATE DATABASE … TEMPLATE needs the source idle: Cloud SQL clones a live instance, the test server cannot.
  await handle.close();
  fake = await startFakeCloneAdmin(project);
  record = await openTestDatabase();
}, 120_000);

afterAll(async () => {
  await fake?.close();
  await record?.close();
  await serverQuery(`drop database if exists "${source}" with (force)`);
});

function drill() {
  const admin = cloudSqlAdmin({ baseUrl: fake.url, accessToken: async () => 'test-token' });
  return new RestoreDrill({
    db: record.db,
    admin,
    source: { project, instance: source },
    connect: (scratch) => openDatabase({ kind: 'postgres', url: databaseUrl(scratch), poolMax: 1 }),
    checkpoints: audit.checkpoints,
    expectedMigrationVersion: loadMigrations().at(-1)?.version as string,
    now: () => now,
    sleep: async () => {},
    logger: createLogger('silent'),
  });
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
    fake.afterClone = async (url) => {
      const copy = await openDatabase({ kind: 'postgres', url, poolMax: 1 });
      await copy.withSession(async (s) => {
        await s.query('alter table audit_logs disable trigger audit_logs_refuse_update_delete');
        await s.query(
          `update audit_logs set metadata = '{"step": 99}' where org_id = '${orgIds[0]}' and seq = 2`,
        );
      });
      await copy.close();
    };
    const result = await drill().run();
    expect(result.status).toBe('failed');
    expect(result.failure).toContain('hash_mismatch');
    expect(fake.live.size).toBe(0);
    expect(await lastDrillAudit()).toEqual({ action: 'backup.restore_drill_failed', target_id: result.id });
  });

  it('fails on a copy that lost the tail of a chain, even with its head rewound to match', async () => {
    fake.afterClone = async (url) => {
      const copy = await openDatabase({ kind: 'postgres', url, poolMax: 1 });
      await copy.withSession(async (s) => {
        await s.query('alter table audit_logs disable trigger audit_logs_refuse_update_delete');
        await s.query(`delete from audit_logs where org_id = '${orgIds[1]}' and seq = 3`);
        await s.query(
          `update audit_chain_heads set seq = 2, hash = (select hash from audit_logs where org_id = '${orgIds[1]}' and seq = 2) where chain = 'org:${orgIds[1]}'`,
        );
      });
      await copy.close();
    };
    const result = await drill().run();
    expect(result.status).toBe('failed');
    expect(result.failure).toContain('missing_tail');
    expect(fake.live.size).toBe(0);
  });

  it('fails, and still cleans up, when the copy is at another migration version', async () => {
    fake.afterClone = async (url) => {
      const copy = await openDatabase({ kind: 'postgres', url, poolMax: 1 });
      await copy.withSession(async (s) => {
        await s.query(
          `delete from schema_migrations where version = (select max(version) from schema_migrations)`,
        );
      });
      await copy.close();
    };
    const result = await drill().run();
    expect(result).toMatchObject({ status: 'failed' });
    expect(result.failure).toContain('migration version');
    expect(fake.live.size).toBe(0);
  });
});
