import { createHash } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { appendAudit } from '../audit/append.js';
import type { BlobStore } from '../blob/store.js';
import type { Tx } from '../bus/outbox.js';
import type { Db } from '../db/connect.js';
import type { Logger } from '../log/logger.js';
import type { FrameBuffer } from './frame-buffer.js';
import { ASCIICAST_CONTENT_TYPE, archiveKey, asciicastHeader } from './model.js';
import { findRecording, markBufferDiscarded, type Recording } from './store.js';

const GZIP_CHUNK_BYTES = 256 * 1024;

/** After this many failed deliveries a recording is `failed`; the bus then dead-letters its message. */
export const ARCHIVE_MAX_ATTEMPTS = 5;

/** Test seams: simulate a crash at a step of the archive. */
export interface ArchiveFaults {
  afterUpload?: () => void | Promise<void>;
}

export class RecordingFailedError extends Error {
  constructor(recordingId: string) {
    super(`recording ${recordingId} could not be archived and is marked failed`);
    this.name = 'RecordingFailedError';
  }
}

/**
 * Archives a stopped recording: header + buffered events in seq order → gzip → the recordings
 * bucket, hashing and counting the gzip bytes on their way (memory flat in recording size). Then,
 * in the caller's transaction, `archived` with digest and size plus `recording.archived` in the
 * org's audit chain. The buffer is deleted only after that commit (the returned step), and the
 * delete is then recorded (`buffer_discarded_at`).
 * Redelivery is safe at every point: the object key is fixed and the output deterministic, so a
 * repeated upload replaces the object with the same bytes; an archived recording only has its
 * buffer deleted again. A crash between the commit and the delete leaves nothing to redeliver (the
 * event counts as processed); the hourly sweep (sweep.ts) deletes such buffers.
 */
export class Archiver {
  constructor(
    private readonly deps: {
      db: Db;
      buffer: FrameBuffer;
      blobs: BlobStore;
      logger: Logger;
      faults?: ArchiveFaults;
    },
  ) {}

  async archive(recordingId: string, tx: Tx, now: Date): Promise<(() => Promise<void>) | undefined> {
    const recording = await findRecording(tx, recordingId, { forUpdate: true });
    const log = this.deps.logger.child({ recordingId });
    if (!recording) {
      log.warn('archive: no such recording; nothing to do');
      return undefined;
    }
    const discard = () => discardBuffer(this.deps, recordingId, now);
    if (recording.status === 'archived') return discard;
    if (recording.status === 'failed') throw new RecordingFailedError(recordingId);
    if (recording.status !== 'archiving') {
      log.warn('archive: recording is not stopped; ignoring', { status: recording.status });
      return undefined;
    }
    const key = archiveKey(recording.orgId, recording.id);
    const { sha256, bytes } = await this.#upload(recording, key, tx);
    await this.deps.faults?.afterUpload?.();
    await tx
      .updateTable('recordings')
      .set({ status: 'archived', archived_at: now, blob_key: key, bytes, sha256, last_error: null })
      .where('id', '=', recording.id)
      .execute();
    await appendAudit(tx, {
      orgId: recording.orgId,
      action: 'recording.archived',
      actor: { type: 'system', id: null },
      target: { type: 'recording', id: recording.id },
      metadata: { sizeBytes: bytes, sha256 },
      now,
    });
    log.info('recording archived', { orgId: recording.orgId, bytes, sha256 });
    return discard;
  }

  /**
   * Counts a failed delivery (in its own transaction, after the handler's rolled back); at the
   * limit the recording becomes `failed`. Returns the attempts so far.
   */
  async recordFailure(recordingId: string, error: unknown): Promise<number> {
    return this.deps.db.transaction().execute(async (tx) => {
      const recording = await findRecording(tx, recordingId, { forUpdate: true });
      if (recording?.status !== 'archiving') return recording?.archiveAttempts ?? 0;
      const attempts = recording.archiveAttempts + 1;
      await tx
        .updateTable('recordings')
        .set({
          archive_attempts: attempts,
          last_error: String((error as Error)?.message ?? error).slice(0, 500),
          ...(attempts >= ARCHIVE_MAX_ATTEMPTS ? { status: 'failed' as const } : {}),
        })
        .where('id', '=', recordingId)
        .execute();
      return attempts;
    });
  }

  async #upload(recording: Recording, key: string, tx: Tx): Promise<{ sha256: string; bytes: number }> {
    const hash = createHash('sha256');
    let bytes = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        hash.update(chunk);
        bytes += chunk.length;
        done(null, chunk);
      },
    });
    const buffer = this.deps.buffer;
    async function* cast(): AsyncIterable<Buffer> {
      yield Buffer.from(asciicastHeader(recording));
      yield* readAhead(buffer.read(recording.id, tx));
    }
    // highWaterMark 1: hold one piece (plus the one read ahead), not the default sixteen.
    // zlib compresses on the thread pool but comes back to this thread for every output chunk;
    // 256 KiB chunks (not 16 KiB) make that about once per piece, so reading the next piece from
    // the buffer and compressing this one overlap instead of taking turns.
    const compressing = pipeline(
      Readable.from(cast(), { highWaterMark: 1 }),
      createGzip({ level: 6, chunkSize: GZIP_CHUNK_BYTES }),
      tap,
    );
    const uploading = this.deps.blobs.upload(key, tap, {
      contentType: ASCIICAST_CONTENT_TYPE,
      contentEncoding: 'gzip',
    });
    // Either side failing tears the other down, so neither waits forever.
    await Promise.all([
      compressing.catch((error: unknown) => {
        tap.destroy(error as Error);
        throw error;
      }),
      uploading.catch((error: unknown) => {
        tap.destroy(error as Error);
        throw error;
      }),
    ]);
    return { sha256: hash.digest('hex'), bytes };
  }
}

/** Deletes an archived recording's buffer, then records that it is gone so the sweep skips it. */
export async function discardBuffer(
  deps: { db: Db; buffer: FrameBuffer },
  recordingId: string,
  now: Date,
): Promise<void> {
  await deps.buffer.discard(recordingId);
  await markBufferDiscarded(deps.db, recordingId, now);
}

/**
 * Starts fetching the next piece while the current one is being compressed (zlib works off the
 * main thread), so reading the buffer and gzip overlap; holds at most one extra piece (≤ 4 MiB).
 */
async function* readAhead(source: AsyncIterable<Buffer>): AsyncIterable<Buffer> {
  const pieces = source[Symbol.asyncIterator]();
  let next = pieces.next();
  for (;;) {
    const current = await next;
    if (current.done) return;
    next = pieces.next();
    // If the consumer stops early, a failure of the fetch ahead is nobody's to handle.
    next.catch(() => undefined);
    yield current.value;
  }
}
