import { sql } from 'kysely';
import type { Tx } from '../bus/outbox.js';
import type { RecordingStatus } from './model.js';
import type { RecordingsTable } from './tables.js';
import './tables.js';

/** A recording's metadata as the domain sees it. */
export interface Recording {
  id: string;
  orgId: string;
  title: string;
  width: number;
  height: number;
  machineId: string | null;
  status: RecordingStatus;
  /** Who started it: a user or an API key (`id` null only on rows that never named one). */
  startedBy: { type: string; id: string | null };
  startedAt: Date;
  stoppedAt: Date | null;
  archivedAt: Date | null;
  blobKey: string | null;
  bytes: number | null;
  sha256: string | null;
  archiveAttempts: number;
  lastFrameAt: Date | null;
  bufferDiscardedAt: Date | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ids arrive from URLs; anything that is not a UUID names no recording (and never reaches SQL). */
export function isRecordingId(id: string): boolean {
  return UUID.test(id);
}

export function toRecording(row: RecordingsTable): Recording {
  return {
    id: row.id,
    orgId: row.org_id,
    title: row.title,
    width: row.width,
    height: row.height,
    machineId: row.machine_id,
    status: row.status,
    startedBy: { type: row.started_by_type, id: row.started_by_id },
    startedAt: row.started_at,
    stoppedAt: row.stopped_at,
    archivedAt: row.archived_at,
    blobKey: row.blob_key,
    bytes: row.bytes === null ? null : Number(row.bytes),
    sha256: row.sha256,
    archiveAttempts: row.archive_attempts,
    lastFrameAt: row.last_frame_at,
    bufferDiscardedAt: row.buffer_discarded_at,
  };
}

export async function findRecording(
  db: Tx,
  id: string,
  options: { forUpdate?: boolean } = {},
): Promise<Recording | null> {
  if (!isRecordingId(id)) return null;
  let query = db.selectFrom('recordings').selectAll().where('id', '=', id);
  if (options.forUpdate) query = query.forUpdate();
  const row = await query.executeTakeFirst();
  return row ? toRecording(row) : null;
}

const lastActivity = sql<Date>`coalesce(last_frame_at, started_at)`;

/** Live recordings with no activity since `idleBefore`, quietest first: the idle stop's candidates. */
export async function quietRecordings(db: Tx, idleBefore: Date, limit: number): Promise<Recording[]> {
  const rows = await db
    .selectFrom('recordings')
    .selectAll()
    .where('status', '=', 'recording')
    .where(lastActivity, '<=', idleBefore)
    .orderBy(lastActivity)
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map(toRecording);
}

/** Recordings archived by `archivedBefore` whose buffer was never confirmed gone, oldest first. */
export async function archivedWithBufferLeft(
  db: Tx,
  archivedBefore: Date,
  limit: number,
): Promise<Recording[]> {
  const rows = await db
    .selectFrom('recordings')
    .selectAll()
    .where('status', '=', 'archived')
    .where('buffer_discarded_at', 'is', null)
    .where('archived_at', '<=', archivedBefore)
    .orderBy('archived_at')
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map(toRecording);
}

export async function markBufferDiscarded(db: Tx, id: string, now: Date): Promise<void> {
  await db
    .updateTable('recordings')
    .set({ buffer_discarded_at: now })
    .where('id', '=', id)
    .where('buffer_discarded_at', 'is', null)
    .execute();
}

/** Moves `last_frame_at` forward (never back: appends to one recording may finish out of order). */
export async function touchLastFrame(db: Tx, id: string, now: Date): Promise<void> {
  await db
    .updateTable('recordings')
    .set({ last_frame_at: now })
    .where('id', '=', id)
    .where((eb) => eb.or([eb('last_frame_at', 'is', null), eb('last_frame_at', '<', now)]))
    .execute();
}
