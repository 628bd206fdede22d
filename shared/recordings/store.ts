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
  startedAt: Date;
  stoppedAt: Date | null;
  archivedAt: Date | null;
  blobKey: string | null;
  bytes: number | null;
  sha256: string | null;
  archiveAttempts: number;
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
    startedAt: row.started_at,
    stoppedAt: row.stopped_at,
    archivedAt: row.archived_at,
    blobKey: row.blob_key,
    bytes: row.bytes === null ? null : Number(row.bytes),
    sha256: row.sha256,
    archiveAttempts: row.archive_attempts,
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
