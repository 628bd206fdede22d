import type { CloudEvent } from '@google-cloud/functions-framework';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { listBackupRuns } from '../../shared/backups/cloud-sql-admin.js';
import { latestBackupCheck } from '../../shared/backups/store.js';
import { consumer } from '../../shared/bus/consumer.js';
import type { DbHandle } from '../../shared/db/connect.js';
import { memoryLogger } from '../../shared/log/logger.js';
import { createMetrics } from '../../shared/log/metrics.js';
import { FakeClock } from '../../shared/time/clock.js';
import {
  backupRun,
  type FakeCloudSqlAdmin,
  startFakeCloudSqlAdmin,
} from '../../tests/helpers/cloud-sql-admin.js';
import { openTestDatabase } from '../../tests/helpers/db.js';
import { backupVerifyHandlers } from './handlers.js';

const INSTANCE = 'acme-prod:europe-west1:sf-prod-pg';
const clock = new FakeClock('2026-03-09T06:00:00Z');
const logger = memoryLogger();
let database: DbHandle;
let api: FakeCloudSqlAdmin;
let messageCounter = 0;
/** audit_logs is append-only, so each test looks only at rows after this seq of `system:backups`. */
let auditSeqBefore = 0;

/** The CloudEvent a push subscription delivers for one Cloud Scheduler tick (infra/scheduler.tf). */
function schedulerTick(messageId = String(++messageCounter)): CloudEvent<unknown> {
  return {
    specversion: '1.0',
    id: messageId,
    source: '//pubsub.googleapis.com/projects/acme-prod/topics/backup-verify',
    type: 'google.cloud.pubsub.topic.v1.messagePublished',
    time: clock.now().toISOString(),
    data: {
      message: {
        data: Buffer.from('{}').toString('base64'),
        attributes: { topic: 'backup-verify', scheduled: 'true' },
        messageId,
      },
      subscription: 'projects/acme-prod/subscriptions/backup-verify--backup-verify',
    },
  };
}

function unit(instance: string | null = INSTANCE) {
  const handlers = backupVerifyHandlers({
    instance,
    listRuns: (ref) =>
      listBackupRuns(ref, { baseUrl: api.url, accessToken: async () => 'ya29.test-token', pageSize: 2 }),
    now: () => clock.now(),
    logger,
  });
  return consumer('backup-verify', handlers, async () => ({
    db: database.db,
    logger,
    metrics: createMetrics(logger),
  }));
}

async function auditRows() {
  const rows = await database.db
    .selectFrom('audit_logs')
    .select(['chain', 'seq', 'action', 'actor_type', 'actor_id', 'target_id', 'metadata', 'org_id'])
    .where('chain', '=', 'system:backups')
    .where('seq', '>', auditSeqBefore)
    .orderBy('seq')
    .execute();
  return rows.map((row) => ({ ...row, seq: row.seq - auditSeqBefore }));
}

async function alerts() {
  const rows = await database.db.selectFrom('outbox').select(['topic', 'envelope']).execute();
  return rows.filter((row) => row.topic === 'security-events').map((row) => row.envelope.data);
}

beforeAll(async () => {
  database = await openTestDatabase();
  api = await startFakeCloudSqlAdmin({ project: 'acme-prod', instance: 'sf-prod-pg' });
});

afterAll(async () => {
  await api.close();
  await database.close();
});

beforeEach(async () => {
  await database.db.deleteFrom('backup_checks').execute();
  const head = await database.db
    .selectFrom('audit_chain_heads')
    .select('seq')
    .where('chain', '=', 'system:backups')
    .executeTakeFirst();
  auditSeqBefore = head?.seq ?? 0;
  await database.db.deleteFrom('outbox').execute();
  api.requests.length = 0;
  api.failWith = null;
});

describe('backup-verify', () => {
  it('a successful backup last night is recorded as verified and audited on the system chain, with no alert', async () => {
    api.pages = [
      [
        backupRun({
          id: '102',
          status: 'SUCCESSFUL',
          windowStartTime: '2026-03-09T02:00:00Z',
          endTime: '2026-03-09T02:14:31.512Z',
        }),
        backupRun({
          id: '101',
          status: 'SUCCESSFUL',
          windowStartTime: '2026-03-08T02:00:00Z',
          endTime: '2026-03-08T02:13:02Z',
        }),
      ],
    ];
    await unit()(schedulerTick());

    expect(await latestBackupCheck(database.db)).toEqual({
      instance: INSTANCE,
      status: 'verified',
      checkedAt: clock.now(),
      latestSuccessAt: new Date('2026-03-09T02:14:31.512Z'),
      latestSuccessRunId: '102',
      runsExamined: 2,
    });
    expect(await auditRows()).toEqual([
      {
        chain: 'system:backups',
        seq: 1,
        action: 'backup.verified',
        actor_type: 'system',
        actor_id: 'backup-verify',
        target_id: INSTANCE,
        org_id: null,
        metadata: { latestSuccessAt: '2026-03-09T02:14:31.512Z', latestSuccessRunId: '102', runsExamined: 2 },
      },
    ]);
    expect(await alerts()).toEqual([]);
    expect(api.requests).toEqual([
      {
        path: '/v1/projects/acme-prod/instances/sf-prod-pg/backupRuns',
        query: { maxResults: '2' },
        authorization: 'Bearer ya29.test-token',
      },
    ]);
  });

  it('follows nextPageToken past failed runs until it finds a fresh success', async () => {
    api.pages = [
      [
        backupRun({
          id: '105',
          status: 'FAILED',
          windowStartTime: '2026-03-09T02:00:00Z',
          endTime: '2026-03-09T02:01:00Z',
        }),
        backupRun({
          id: '104',
          status: 'FAILED',
          windowStartTime: '2026-03-08T02:00:00Z',
          endTime: '2026-03-08T02:01:00Z',
        }),
      ],
      [
        backupRun({
          id: '103',
          status: 'SUCCESSFUL',
          windowStartTime: '2026-03-07T02:00:00Z',
          endTime: '2026-03-07T02:12:00Z',
        }),
        backupRun({
          id: '102',
          status: 'SUCCESSFUL',
          windowStartTime: '2026-03-06T02:00:00Z',
          endTime: '2026-03-06T02:12:00Z',
        }),
      ],
      [
        backupRun({
          id: '101',
          status: 'SUCCESSFUL',
          windowStartTime: '2026-03-05T02:00:00Z',
          endTime: '2026-03-05T02:12:00Z',
        }),
      ],
    ];
    await unit()(schedulerTick());

    expect((await latestBackupCheck(database.db))?.latestSuccessRunId).toBe('103');
    expect(api.requests.map((r) => r.query.pageToken)).toEqual([undefined, 'page-1']);
  });

  it('no successful backup in 7 days is recorded missing, audited backup.missing and raises a backup-missing alert', async () => {
    api.pages = [
      [
        backupRun({
          id: '110',
          status: 'FAILED',
          windowStartTime: '2026-03-09T02:00:00Z',
          endTime: '2026-03-09T02:01:00Z',
        }),
        backupRun({ id: '109', status: 'SKIPPED', windowStartTime: '2026-03-08T02:00:00Z' }),
      ],
      [
        backupRun({
          id: '100',
          status: 'SUCCESSFUL',
          windowStartTime: '2026-02-28T02:00:00Z',
          endTime: '2026-02-28T02:15:00Z',
        }),
      ],
      [
        backupRun({
          id: '99',
          status: 'SUCCESSFUL',
          windowStartTime: '2026-02-27T02:00:00Z',
          endTime: '2026-02-27T02:15:00Z',
        }),
      ],
    ];
    await unit()(schedulerTick());

    const check = await latestBackupCheck(database.db);
    expect(check?.status).toBe('missing');
    expect(check?.latestSuccessAt).toEqual(new Date('2026-02-28T02:15:00Z'));
    // The second page already reached before the window, so the third is never fetched.
    expect(api.requests).toHaveLength(2);
    expect((await auditRows()).map((r) => [r.chain, r.action])).toEqual([
      ['system:backups', 'backup.missing'],
    ]);
    expect(await alerts()).toEqual([
      {
        kind: 'backup-missing',
        detail: {
          instance: INSTANCE,
          latestSuccessAt: '2026-02-28T02:15:00.000Z',
          latestSuccessRunId: '100',
          runsExamined: 3,
        },
      },
    ]);
  });

  it('an instance with no backup runs at all is missing and alerts', async () => {
    api.pages = [[]];
    await unit()(schedulerTick());
    expect((await latestBackupCheck(database.db))?.status).toBe('missing');
    expect(await alerts()).toHaveLength(1);
  });

  it('a redelivered scheduler tick is handled once; the next tick is a new check', async () => {
    api.pages = [
      [
        backupRun({
          id: '1',
          status: 'SUCCESSFUL',
          windowStartTime: '2026-03-09T02:00:00Z',
          endTime: '2026-03-09T02:10:00Z',
        }),
      ],
    ];
    const tick = schedulerTick();
    await unit()(tick);
    await unit()(tick);
    expect(await database.db.selectFrom('backup_checks').select('id').execute()).toHaveLength(1);
    await unit()(schedulerTick());
    expect((await auditRows()).map((r) => r.seq)).toEqual([1, 2]);
  });

  it('an Admin API error fails the delivery (so Pub/Sub retries) and records nothing', async () => {
    api.failWith = 403;
    await expect(unit()(schedulerTick())).rejects.toThrow('Cloud SQL Admin API backupRuns.list answered 403');
    expect(await latestBackupCheck(database.db)).toBeNull();
    expect(await auditRows()).toEqual([]);
  });

  it('on an embedded database there is nothing to verify and nothing is recorded', async () => {
    await unit(null)(schedulerTick());
    expect(api.requests).toEqual([]);
    expect(await latestBackupCheck(database.db)).toBeNull();
  });

  it('a message marked scheduled on a topic without a schedule is dropped, not turned into an event', async () => {
    const tick = schedulerTick();
    const data = tick.data as { message: { attributes: Record<string, string> }; subscription: string };
    data.message.attributes.topic = 'allowlist-changed';
    const handlers = {
      'allowlist-changed': async () => {
        throw new Error('must not run');
      },
    };
    await consumer('allowlist', handlers, async () => ({
      db: database.db,
      logger,
      metrics: createMetrics(logger),
    }))(tick);
    expect(logger.lines.some((line) => line.message === 'dropping invalid envelope')).toBe(true);
  });
});
