import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertOrg, openTestDatabase } from '../../tests/helpers/db.js';
import '../audit/tables.js';
import { LocalBlobStore } from '../blob/local.js';
import type { DbHandle } from '../db/connect.js';
import { memoryLogger } from '../log/logger.js';
import '../orgs/tables.js';
import { FakeClock, MINUTE_MS, SECOND_MS } from '../time/clock.js';
import { ARCHIVE_MAX_ATTEMPTS, Archiver } from './archiver.js';
import type { FrameBuffer } from './frame-buffer.js';
import { BUFFER_DISCARD_GRACE_MS, LAST_FRAME_TOUCH_INTERVAL_MS } from './lifecycle.js';
import { PostgresFrameBuffer } from './postgres-frame-buffer.js';
import { RecordingService } from './service.js';
import { findRecording, touchLastFrame } from './store.js';
import { RecordingSweep } from './sweep.js';

const IDLE_MINUTES = 60;
const clock = new FakeClock('2026-05-04T08:00:00Z');
const logger = memoryLogger();
let handle: DbHandle;
let dataDir: string;
let orgId: string;
let recordings: RecordingService;
let archiver: Archiver;
/** The real buffer, counting discards so a test can tell which recordings the sweep touched. */
let buffer: FrameBuffer & { discarded: string[]; failDiscardOf: Set<string> };

beforeAll(async () => {
  handle = await openTestDatabase();
  dataDir = mkdtempSync(join(tmpdir(), 'sf-sweep-'));
  const real = new PostgresFrameBuffer(handle.db);
  buffer = {
    discarded: [],
    failDiscardOf: new Set(),
    append: (...args) => real.append(...args),
    seal: (id) => real.seal(id),
    read: (id, within) => real.read(id, within),
    async discard(id) {
      if (buffer.failDiscardOf.has(id)) throw new Error('frame buffer unavailable');
      buffer.discarded.push(id);
      await real.discard(id);
    },
  };
  recordings = new RecordingService({ db: handle.db, buffer, maxBytes: 1024 * 1024 });
  archiver = new Archiver({
    db: handle.db,
    buffer,
    blobs: new LocalBlobStore(dataDir, 'recordings'),
    logger,
  });
  orgId = await insertOrg(handle.db, { slug: 'acme', name: 'Acme', now: clock.now() });
});
afterAll(async () => {
  await handle?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const sweep = (batchSize?: number) =>
  new RecordingSweep({
    db: handle.db,
    buffer,
    recordings,
    logger,
    idleStopMinutes: IDLE_MINUTES,
    ...(batchSize ? { batchSize } : {}),
  });

const user = { type: 'user' as const, id: 'user-1' };
let frameTime = 0;

async function started(): Promise<string> {
  return (await recordings.start(orgId, { title: 'deploy', width: 80, height: 24 }, user, null, clock.now()))
    .id;
}

async function frame(id: string, seq: number) {
  frameTime += 1;
  const outcome = await recordings.ingest(
    id,
    seq,
    Buffer.from(`[${frameTime}, "o", "frame ${seq}"]\n`),
    clock.now(),
  );
  if (!outcome.ok) throw new Error(`frame refused: ${outcome.code}`);
}

const chunkCount = async (id: string) =>
  (await handle.db.selectFrom('recording_chunks').select('seq').where('recording_id', '=', id).execute())
    .length;

/**
 * Runs the archive as the consumer does, in a transaction; `afterCommit: false` plays a process that
 * died after the commit, before the after-commit delete of the buffer.
 */
async function archived(id: string, options: { afterCommit: boolean }) {
  const step = await handle.db.transaction().execute((tx) => archiver.archive(id, tx, clock.now()));
  if (options.afterCommit) await step?.();
}

/** A stopped recording with two frames, archived. */
async function archivedRecording(options: { afterCommit: boolean }): Promise<string> {
  const id = await started();
  await frame(id, 0);
  await frame(id, 1);
  await recordings.stop(id, { actor: user, role: 'member' }, null, clock.now());
  await archived(id, options);
  return id;
}

async function sessionStoppedAudit(id: string) {
  const row = await handle.db
    .selectFrom('audit_logs')
    .select(['actor_type', 'actor_id', 'metadata', 'created_at'])
    .where('target_id', '=', id)
    .where('action', '=', 'session.stopped')
    .executeTakeFirst();
  if (!row) return undefined;
  const metadata = typeof row.metadata === 'string' ? JSON.parse(row.metadata) : row.metadata;
  return { actorType: row.actor_type, actorId: row.actor_id, metadata };
}

describe('buffers of archived recordings', () => {
  it('a crash after the archive committed leaves the buffer; the sweep deletes it once the grace period is over', async () => {
    const id = await archivedRecording({ afterCommit: false });
    expect((await findRecording(handle.db, id))?.status).toBe('archived');
    expect(await chunkCount(id)).toBe(2);

    clock.advance(BUFFER_DISCARD_GRACE_MS - SECOND_MS);
    await sweep().sweep(clock.now());
    expect(await chunkCount(id)).toBe(2);

    clock.advance(SECOND_MS);
    const report = await sweep().sweep(clock.now());
    expect(report.buffersDiscarded).toBe(1);
    expect(await chunkCount(id)).toBe(0);
    expect((await findRecording(handle.db, id))?.bufferDiscardedAt).toEqual(clock.now());
    expect(logger.lines.at(-1)).toMatchObject({ severity: 'INFO', message: 'recordings sweep' });
  });

  it('an archived recording whose buffer the archive deleted is never touched by the sweep', async () => {
    const id = await archivedRecording({ afterCommit: true });
    expect((await findRecording(handle.db, id))?.bufferDiscardedAt).toEqual(clock.now());
    buffer.discarded.length = 0;

    clock.advance(BUFFER_DISCARD_GRACE_MS);
    const report = await sweep().sweep(clock.now());
    expect(buffer.discarded).toEqual([]);
    expect(report.buffersDiscarded).toBe(0);
  });

  it('a failed recording keeps its buffer, however old', async () => {
    const id = await started();
    await frame(id, 0);
    await recordings.stop(id, { actor: user, role: 'member' }, null, clock.now());
    for (let attempt = 0; attempt < ARCHIVE_MAX_ATTEMPTS; attempt++) {
      await archiver.recordFailure(id, new Error('storage unavailable'));
    }
    expect((await findRecording(handle.db, id))?.status).toBe('failed');

    clock.advance(7 * 24 * 60 * MINUTE_MS);
    await sweep().sweep(clock.now());
    expect(buffer.discarded).not.toContain(id);
    expect(await chunkCount(id)).toBe(1);
  });

  it('a buffer that cannot be deleted is counted and tried again next run, without holding up the others', async () => {
    const stuck = await archivedRecording({ afterCommit: false });
    const other = await archivedRecording({ afterCommit: false });
    buffer.failDiscardOf.add(stuck);
    clock.advance(BUFFER_DISCARD_GRACE_MS);
    const first = await sweep().sweep(clock.now());
    expect(first).toMatchObject({ buffersDiscarded: 1, discardFailures: 1 });
    expect(await chunkCount(other)).toBe(0);
    expect(await chunkCount(stuck)).toBe(2);
    expect(logger.lines.at(-1)).toMatchObject({ severity: 'WARNING', discardFailures: 1 });

    buffer.failDiscardOf.delete(stuck);
    clock.advance(60 * MINUTE_MS);
    expect((await sweep().sweep(clock.now())).buffersDiscarded).toBe(1);
    expect(await chunkCount(stuck)).toBe(0);
  });

  it('takes at most a batch per run, oldest first, and says when the batch was full', async () => {
    const ids = [];
    for (let i = 0; i < 3; i++) {
      ids.push(await archivedRecording({ afterCommit: false }));
      clock.advance(SECOND_MS);
    }
    clock.advance(BUFFER_DISCARD_GRACE_MS);
    buffer.discarded.length = 0;
    expect(await sweep(2).sweep(clock.now())).toMatchObject({ buffersDiscarded: 2, batchFull: true });
    expect(buffer.discarded).toEqual(ids.slice(0, 2));
    expect(await sweep(2).sweep(clock.now())).toMatchObject({ buffersDiscarded: 1, batchFull: false });
    expect(buffer.discarded).toEqual(ids);
  });
});

describe('recordings whose client went quiet', () => {
  const quietFor = (minutes: number) => clock.advance(minutes * MINUTE_MS + LAST_FRAME_TOUCH_INTERVAL_MS);

  it('a recording with no frame for the idle time is stopped as by its user, by the system, audited as idle', async () => {
    const id = await started();
    const startedAt = clock.now();
    await frame(id, 0);
    clock.advance(5 * MINUTE_MS);
    await frame(id, 1);
    const lastFrameAt = clock.now();

    quietFor(IDLE_MINUTES);
    const report = await sweep().sweep(clock.now());
    expect(report.idleStopped).toBeGreaterThanOrEqual(1);

    const recording = await findRecording(handle.db, id);
    expect(recording).toMatchObject({ status: 'archiving', stoppedAt: clock.now(), lastFrameAt });
    const outbox = await handle.db.selectFrom('outbox').select(['topic', 'envelope']).execute();
    expect(
      outbox.filter((row) => row.topic === 'recording-stopped').map((row) => row.envelope.data),
    ).toContainEqual({ recordingId: id });
    expect(await sessionStoppedAudit(id)).toEqual({
      actorType: 'system',
      actorId: null,
      metadata: {
        durationSeconds: (clock.now().getTime() - startedAt.getTime()) / 1000,
        reason: 'idle',
        lastActivityAt: lastFrameAt.toISOString(),
      },
    });
    expect((await recordings.ingest(id, 2, Buffer.from('[99, "o", "late"]\n'), clock.now())).ok).toBe(false);

    // From there the archive runs as for any stop, and deletes the buffer.
    await archived(id, { afterCommit: true });
    expect(await findRecording(handle.db, id)).toMatchObject({ status: 'archived' });
    expect(await chunkCount(id)).toBe(0);
  });

  it('a recording that got a frame within the idle time keeps recording', async () => {
    const id = await started();
    await frame(id, 0);
    clock.advance((IDLE_MINUTES - 1) * MINUTE_MS);
    await frame(id, 1);
    quietFor(IDLE_MINUTES - 1);
    await sweep().sweep(clock.now());
    expect((await findRecording(handle.db, id))?.status).toBe('recording');
    expect(await sessionStoppedAudit(id)).toBeUndefined();

    clock.advance(MINUTE_MS);
    await sweep().sweep(clock.now());
    expect((await findRecording(handle.db, id))?.status).toBe('archiving');
  });

  it('a recording that never got a frame is judged from its start', async () => {
    const id = await started();
    const startedAt = clock.now();
    quietFor(IDLE_MINUTES);
    clock.advance(-SECOND_MS);
    await sweep().sweep(clock.now());
    expect((await findRecording(handle.db, id))?.status).toBe('recording');
    clock.advance(SECOND_MS);
    await sweep().sweep(clock.now());
    expect((await findRecording(handle.db, id))?.status).toBe('archiving');
    expect((await sessionStoppedAudit(id))?.metadata.lastActivityAt).toBe(startedAt.toISOString());
  });

  it('writes the last-frame time at most once a minute, and never backwards', async () => {
    const id = await started();
    await frame(id, 0);
    const first = clock.now();
    clock.advance(LAST_FRAME_TOUCH_INTERVAL_MS - SECOND_MS);
    await frame(id, 1);
    expect((await findRecording(handle.db, id))?.lastFrameAt).toEqual(first);
    clock.advance(SECOND_MS);
    await frame(id, 2);
    expect((await findRecording(handle.db, id))?.lastFrameAt).toEqual(clock.now());
    // Two appends racing: the one that read the older time and writes last must not move it back.
    await touchLastFrame(handle.db, id, first);
    expect((await findRecording(handle.db, id))?.lastFrameAt).toEqual(clock.now());
  });

  it('a recording stopped by its user, or already archiving, is not stopped again', async () => {
    const id = await started();
    await recordings.stop(id, { actor: user, role: 'member' }, null, clock.now());
    quietFor(IDLE_MINUTES);
    await sweep().sweep(clock.now());
    expect(await recordings.stopIdle(id, clock.now(), IDLE_MINUTES)).toBe(false);
    const stops = await handle.db
      .selectFrom('audit_logs')
      .select('actor_type')
      .where('target_id', '=', id)
      .where('action', '=', 'session.stopped')
      .execute();
    expect(stops).toEqual([{ actor_type: 'user' }]);
  });
});
