import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendAudit } from '../../shared/audit/append.js';
import { loadConfig } from '../../shared/config/config.js';
import { createLogger } from '../../shared/log/logger.js';
import { type LocalRuntime, startLocalRuntime } from '../../shared/runtime/local.js';
import { insertOrg } from '../helpers/db.js';

/**
 * The restore drill in the embedded runtime (`npm start` with its default PGlite in DATA_DIR): the
 * monthly tick (here `POST /api/dev/run/restore-drill`) copies the live data directory, opens the
 * copy, checks its migration version, counts and every org chain against the signed checkpoints,
 * deletes the copy and records the run in the live database.
 */
let dataDir: string;
let runtime: LocalRuntime;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'sf-drill-local-'));
  const config = {
    ...loadConfig({ PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'silent' }),
    passwordHashCost: 4,
  };
  runtime = await startLocalRuntime(config, { env: {}, scheduler: false, logger: createLogger('silent') });
}, 180_000);

afterAll(async () => {
  await runtime?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const run = (topic: string) => fetch(`${runtime.url}/api/dev/run/${topic}`, { method: 'POST' });

describe('the restore drill in the embedded runtime', () => {
  it('checks a copy of the live data directory, records the run and deletes the copy', async () => {
    const db = runtime.platform.db;
    // Two orgs with audit chains in the live database, signed by the checkpoint job.
    for (const slug of ['drill-a', 'drill-b']) {
      const orgId = await insertOrg(db, { slug, now: new Date() });
      await db.transaction().execute(async (tx) => {
        for (let step = 0; step < 3; step++) {
          await appendAudit(tx, {
            orgId,
            action: 'policy.updated',
            actor: { type: 'system', id: null },
            metadata: { step },
            now: new Date(),
          });
        }
      });
    }
    expect((await run('audit-checkpoint')).status).toBe(200);
    const chains = await db
      .selectFrom('audit_chain_heads')
      .select('chain')
      .where('chain', 'like', 'org:%')
      .execute();

    expect((await run('restore-drill')).status).toBe(200);
    const drill = await db
      .selectFrom('restore_drills')
      .selectAll()
      .orderBy('started_at', 'desc')
      .executeTakeFirstOrThrow();
    expect(drill).toMatchObject({
      status: 'passed',
      failure: null,
      instance: 'embedded',
      point_in_time_age_seconds: 0,
      chains_verified: chains.length,
    });
    const counts = typeof drill.row_counts === 'string' ? JSON.parse(drill.row_counts) : drill.row_counts;
    const users = await db.selectFrom('users').select('id').execute();
    expect(counts).toMatchObject({ users: users.length, orgs: 2, audit_logs: 6 });
    expect(chains).toHaveLength(2);
    const audited = await db
      .selectFrom('audit_logs')
      .select('action')
      .where('chain', '=', 'system:backups')
      .orderBy('seq', 'desc')
      .executeTakeFirstOrThrow();
    expect(audited.action).toBe('backup.restore_drill_passed');
    // The scratch copy is gone; the live database goes on.
    expect(readdirSync(join(dataDir, 'restore-drill'))).toEqual([]);
    expect((await db.selectFrom('users').select('id').execute()).length).toBe(users.length);
  }, 120_000);
});
