import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archiveFunction } from '../../functions/archive/handlers.js';
import { LocalBlobStore } from '../../shared/blob/local.js';
import { pubsubCloudEvent } from '../../shared/bus/consumer.js';
import { createLogger } from '../../shared/log/logger.js';
import { Archiver } from '../../shared/recordings/archiver.js';
import type { FrameBuffer } from '../../shared/recordings/frame-buffer.js';
import { archiveKey } from '../../shared/recordings/model.js';
import { PostgresFrameBuffer } from '../../shared/recordings/postgres-frame-buffer.js';
import { PurgedOrgRecordings } from '../../shared/recordings/purge.js';
import { RecordingService } from '../../shared/recordings/service.js';
import { RecordingSweep } from '../../shared/recordings/sweep.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { type FaultyDatabase, openFaultyDatabase } from '../helpers/db-faults.js';
import { createOrg, newUser, orgTestEnv, type TestUser } from '../helpers/orgs.js';
import { ndjson, postFrames } from '../helpers/recordings.js';

/**
 * The archive killed between its upload and its commit (the process dies, or its database
 * connection does): the redelivery uploads the very same object, deletes the buffer once, and the
 * recording ends `archived` with one audit row.
 */
describe('archive killed between upload and commit', () => {
  const logger = createLogger('silent');
  let faulty: FaultyDatabase;
  let app: TestApp;
  let owner: TestUser;
  let orgId: string;

  beforeAll(async () => {
    faulty = await openFaultyDatabase();
    app = await startTestApp({ env: orgTestEnv, database: faulty.handle });
    owner = await newUser(app, 'archivist');
    orgId = (await createOrg(app, owner)).id;
  }, 120_000);
  afterAll(async () => {
    faulty.restore();
    await app?.stop();
    await faulty?.close();
  });

  /** A stopped recording whose recording-stopped event the test delivers itself. */
  async function stoppedRecording(frames: number) {
    const p = app.runtime.platform;
    const started = await app.request('POST', `/api/orgs/${orgId}/recordings`, {
      token: owner.token,
      body: { title: 'deploy', width: 80, height: 24, machineId: 'web-1' },
    });
    const id = started.body.id as string;
    for (let seq = 0; seq < frames; seq++) {
      await postFrames(app, owner.token, id, seq, ndjson([[seq, 'o', `frame ${seq}\r\n`]]));
    }
    const service = new RecordingService({
      db: p.db,
      buffer: new PostgresFrameBuffer(p.db),
      maxBytes: 1 << 20,
    });
    await service.stop(id, { actor: { type: 'user', id: owner.userId }, role: 'owner' }, null, p.clock.now());
    const row = await p.db
      .deleteFrom('outbox')
      .where('topic', '=', 'recording-stopped')
      .returningAll()
      .executeTakeFirstOrThrow();
    const envelope = typeof row.envelope === 'string' ? JSON.parse(row.envelope) : row.envelope;
    return { id, event: pubsubCloudEvent('recording-stopped', envelope, `m-${id}`) };
  }

  function archiveUnit(id: string, options: { crashAfterUpload?: boolean; cutBeforeCommit?: boolean }) {
    const p = app.runtime.platform;
    const blobs = new LocalBlobStore(app.dataDir, 'recordings');
    const real = new PostgresFrameBuffer(p.db);
    const uploads: string[] = [];
    let discards = 0;
    const buffer: FrameBuffer = {
      append: (...a) => real.append(...a),
      seal: (r) => real.seal(r),
      read: (r, w) => real.read(r, w),
      discard: (r) => {
        discards++;
        return real.discard(r);
      },
    };
    let crash = options.crashAfterUpload ?? false;
    let cut = options.cutBeforeCommit ?? false;
    const archiver = new Archiver({
      db: p.db,
      buffer,
      blobs,
      logger,
      faults: {
        afterUpload: async () => {
          const uploaded = (await blobs.get(archiveKey(orgId, id))) as Buffer;
          uploads.push(createHash('sha256').update(uploaded).digest('hex'));
          if (crash) {
            crash = false;
            throw new Error('killed after upload');
          }
          if (cut) {
            // The archived-state update is the next statement: its connection dies before it runs.
            cut = false;
            void faulty.cutOn(/update "recordings" set "status"/);
          }
        },
      },
    });
    const recordings = new RecordingService({ db: p.db, buffer, maxBytes: 1 << 20 });
    const sweep = new RecordingSweep({ db: p.db, buffer, recordings, logger, idleStopMinutes: 1440 });
    const purge = new PurgedOrgRecordings({ db: p.db, blobs, buffer, logger });
    return {
      deliver: archiveFunction(async () => ({ platform: p, archiver, sweep, purge })),
      blobs,
      uploads,
      discards: () => discards,
    };
  }

  async function state(id: string, blobs: LocalBlobStore) {
    const db = app.runtime.platform.db;
    const recording = await db
      .selectFrom('recordings')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    const chunks = await db
      .selectFrom('recording_chunks')
      .select('seq')
      .where('recording_id', '=', id)
      .execute();
    const archivedAudits = await db
      .selectFrom('audit_logs')
      .select('id')
      .where('target_id', '=', id)
      .where('action', '=', 'recording.archived')
      .execute();
    const object = await blobs.get(archiveKey(orgId, id));
    return {
      recording,
      chunks: chunks.length,
      audits: archivedAudits.length,
      objectSha: object ? createHash('sha256').update(object).digest('hex') : null,
    };
  }

  async function expectArchivedOnce(id: string, unit: ReturnType<typeof archiveUnit>) {
    const done = await state(id, unit.blobs);
    expect(done.recording.status).toBe('archived');
    expect(done.chunks).toBe(0);
    expect(done.audits).toBe(1);
    expect(unit.discards()).toBe(1);
    // The rerun wrote the same bytes the killed run did: one object, deterministic output.
    expect(unit.uploads).toHaveLength(2);
    expect(unit.uploads[1]).toBe(unit.uploads[0]);
    expect(done.objectSha).toBe(unit.uploads[0]);
    expect(done.recording.sha256).toBe(done.objectSha);
  }

  it('a process killed after the upload: the rerun produces the same object and deletes the buffer once', async () => {
    const { id, event } = await stoppedRecording(3);
    const unit = archiveUnit(id, { crashAfterUpload: true });
    await expect(unit.deliver(event)).rejects.toThrow('killed after upload');
    const crashed = await state(id, unit.blobs);
    expect(crashed.recording.status).toBe('archiving');
    expect(crashed.chunks).toBe(3);
    expect(crashed.audits).toBe(0);
    expect(unit.discards()).toBe(0);

    await unit.deliver(event);
    await expectArchivedOnce(id, unit);
    // A third delivery (Pub/Sub may redeliver) changes nothing.
    await unit.deliver(event);
    expect(unit.discards()).toBe(1);
    expect((await state(id, unit.blobs)).audits).toBe(1);
  });

  it('the database connection lost between upload and commit: nothing commits, the rerun finishes the job', async () => {
    const { id, event } = await stoppedRecording(2);
    const unit = archiveUnit(id, { cutBeforeCommit: true });
    await expect(unit.deliver(event)).rejects.toThrow();
    faulty.restore();
    const crashed = await state(id, unit.blobs);
    expect(crashed.recording.status).toBe('archiving');
    expect(crashed.chunks).toBe(2);
    expect(crashed.audits).toBe(0);
    expect(unit.discards()).toBe(0);

    await unit.deliver(event);
    await expectArchivedOnce(id, unit);
  });
});
