import { randomUUID } from 'node:crypto';
import type { ActorType } from '../audit/actions.js';
import { appendAudit } from '../audit/append.js';
import { enqueue } from '../bus/outbox.js';
import type { Db } from '../db/connect.js';
import { type Failure, fail } from '../errors/codes.js';
import type { FrameBuffer } from './frame-buffer.js';
import { isIdle, lastActivityAt, shouldTouchLastFrame } from './lifecycle.js';
import { parseFrames } from './model.js';
import { findRecording, type Recording, toRecording, touchLastFrame } from './store.js';

export interface Actor {
  type: ActorType;
  id: string | null;
}

/** Who stops a recording whose client went quiet: the platform, not a person or a key. */
export const SYSTEM_ACTOR: Actor = { type: 'system', id: null };

export interface StartInput {
  title: string;
  width: number;
  height: number;
  machineId?: string | undefined;
}

export type IngestOutcome = { ok: true; appended: boolean; bufferedBytes: number | null } | Failure;

/** Starting, feeding and stopping recordings; archiving is the archive unit's (archiver.ts). */
export class RecordingService {
  constructor(
    private readonly deps: {
      db: Db;
      buffer: FrameBuffer;
      /** RECORDING_MAX_BYTES: the most a recording may buffer. */
      maxBytes: number;
    },
  ) {}

  async start(
    orgId: string,
    input: StartInput,
    actor: Actor,
    ip: string | null,
    now: Date,
  ): Promise<{ id: string }> {
    const id = randomUUID();
    await this.deps.db.transaction().execute(async (tx) => {
      await tx
        .insertInto('recordings')
        .values({
          id,
          org_id: orgId,
          title: input.title,
          width: input.width,
          height: input.height,
          machine_id: input.machineId ?? null,
          status: 'recording',
          started_by_type: actor.type,
          started_by_id: actor.id,
          started_at: now,
          stopped_at: null,
          archived_at: null,
          blob_key: null,
          bytes: null,
          sha256: null,
          archive_attempts: 0,
          last_error: null,
          last_frame_at: null,
          buffer_discarded_at: null,
        })
        .execute();
      await appendAudit(tx, {
        orgId,
        action: 'session.started',
        actor,
        target: { type: 'recording', id },
        metadata: input.machineId ? { machineId: input.machineId } : {},
        ip,
        now,
      });
    });
    return { id };
  }

  async orgOf(id: string): Promise<string | null> {
    return (await findRecording(this.deps.db, id))?.orgId ?? null;
  }

  get(id: string): Promise<Recording | null> {
    return findRecording(this.deps.db, id);
  }

  /**
   * Validates one request's events and buffers them under `seq`. A seq the buffer already holds is
   * acknowledged without being stored again, so clients retry safely. A stored frame moves the
   * recording's last-frame time (at most once a minute), which keeps the idle stop away.
   */
  async ingest(id: string, seq: number, body: Buffer, now: Date): Promise<IngestOutcome> {
    const parsed = parseFrames(body);
    if (!parsed.ok)
      return fail('VALIDATION_FAILED', 'The frames are not valid asciicast v2 events.', {
        issues: parsed.issues,
      });
    const recording = await findRecording(this.deps.db, id);
    if (!recording) return fail('NOT_FOUND');
    if (recording.status !== 'recording') return fail('CONFLICT', 'The recording has stopped.');
    const outcome = await this.deps.buffer.append(
      id,
      { seq, firstTime: parsed.firstTime, lastTime: parsed.lastTime, data: parsed.data },
      this.deps.maxBytes,
    );
    switch (outcome.kind) {
      case 'appended':
        if (shouldTouchLastFrame(recording.lastFrameAt, now)) await touchLastFrame(this.deps.db, id, now);
        return { ok: true, appended: true, bufferedBytes: outcome.bytes };
      case 'duplicate':
        return { ok: true, appended: false, bufferedBytes: null };
      case 'sealed':
        return fail('CONFLICT', 'The recording has stopped.');
      case 'over_cap':
        return fail('PAYLOAD_TOO_LARGE', `A recording holds at most ${this.deps.maxBytes} bytes.`);
      case 'time_goes_back': {
        const line = outcome.against === 'previous' ? 1 : parsed.lineCount;
        const message =
          outcome.against === 'previous'
            ? `line ${line}: time goes back against the events of the previous seq`
            : `line ${line}: time goes past the events of the next seq`;
        return fail('VALIDATION_FAILED', 'The frames are not valid asciicast v2 events.', {
          issues: [{ path: `line ${line}`, message }],
        });
      }
    }
  }

  /**
   * Seals the buffer (no frame lands after the stop), then in one transaction: status `archiving`,
   * `recording-stopped` in the outbox and `session.stopped` in the audit log. Stopping twice is a no-op.
   */
  async stop(id: string, actor: Actor, ip: string | null, now: Date): Promise<{ ok: true } | Failure> {
    const known = await findRecording(this.deps.db, id);
    if (!known) return fail('NOT_FOUND');
    if (known.status === 'recording') await this.#stop(known, { actor, ip, idle: false }, now);
    return { ok: true };
  }

  /**
   * The sweep's stop for a recording whose client went quiet (lifecycle.ts `isIdle`): the same
   * effect as a user's stop, by the system actor, audited as idle. A frame that lands between the
   * check and the seal is kept and archived like any frame before a stop. True when it stopped.
   */
  async stopIdle(id: string, now: Date, idleStopMinutes: number): Promise<boolean> {
    const known = await findRecording(this.deps.db, id);
    if (!known || !isIdle(known, now, idleStopMinutes)) return false;
    return this.#stop(known, { actor: SYSTEM_ACTOR, ip: null, idle: true }, now);
  }

  async #stop(
    known: Recording,
    by: { actor: Actor; ip: string | null; idle: boolean },
    now: Date,
  ): Promise<boolean> {
    await this.deps.buffer.seal(known.id);
    return this.deps.db.transaction().execute(async (tx) => {
      const recording = await findRecording(tx, known.id, { forUpdate: true });
      if (recording?.status !== 'recording') return false;
      await tx
        .updateTable('recordings')
        .set({ status: 'archiving', stopped_at: now })
        .where('id', '=', recording.id)
        .execute();
      await enqueue(tx, 'recording-stopped', { recordingId: recording.id }, { now, orgId: recording.orgId });
      await appendAudit(tx, {
        orgId: recording.orgId,
        action: 'session.stopped',
        actor: by.actor,
        target: { type: 'recording', id: recording.id },
        metadata: {
          durationSeconds: Math.max(0, Math.round((now.getTime() - recording.startedAt.getTime()) / 1000)),
          ...(by.idle ? { reason: 'idle', lastActivityAt: lastActivityAt(recording).toISOString() } : {}),
        },
        ip: by.ip,
        now,
      });
      return true;
    });
  }

  /** The org's recordings, newest first. */
  /**
   * Records that `actor` was handed a playback link (a bearer URL to the whole recording), before
   * the link leaves: no audit row, no link.
   */
  async auditPlayback(
    recording: Pick<Recording, 'id' | 'orgId'>,
    actor: Actor,
    ip: string | null,
    expiresAt: Date,
    now: Date,
  ): Promise<void> {
    await this.deps.db.transaction().execute((tx) =>
      appendAudit(tx, {
        orgId: recording.orgId,
        action: 'recording.playback_issued',
        actor,
        target: { type: 'recording', id: recording.id },
        metadata: { expiresAt: expiresAt.toISOString() },
        ip,
        now,
      }),
    );
  }

  async list(orgId: string, limit = 200): Promise<Recording[]> {
    const rows = await this.deps.db
      .selectFrom('recordings')
      .selectAll()
      .where('org_id', '=', orgId)
      .orderBy('started_at', 'desc')
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map(toRecording);
  }
}
