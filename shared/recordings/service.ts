import { randomUUID } from 'node:crypto';
import type { ActorType } from '../audit/actions.js';
import { appendAudit } from '../audit/append.js';
import { enqueue } from '../bus/outbox.js';
import type { Db } from '../db/connect.js';
import { type Failure, fail } from '../errors/codes.js';
import { bytesInWords } from '../errors/sizes.js';
import '../orgs/tables.js';
import type { FrameBuffer } from './frame-buffer.js';
import { isIdle, lastActivityAt, shouldTouchLastFrame } from './lifecycle.js';
import { type ParsedFrames, parseFrames, type RecordingCaller, recordingControl } from './model.js';
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

/** What a refused caller tried, as its audit action. */
const refusedAction = { frames: 'recording.frames_refused', stop: 'recording.stop_refused' } as const;

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

  /** `id`: an upload's, whose frames were staged under it before the recording existed. */
  async start(
    orgId: string,
    input: StartInput,
    actor: Actor,
    ip: string | null,
    now: Date,
    id: string = randomUUID(),
  ): Promise<{ id: string }> {
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
   * The recording, unless its org is deleted: what a local playback link serves, so a link issued
   * just before the deletion stops with it. (A production link is a Cloud Storage signed URL, which
   * nothing can revoke: it lives out its 15 minutes.)
   */
  async getServable(id: string): Promise<Recording | null> {
    const recording = await findRecording(this.deps.db, id);
    if (!recording) return null;
    const org = await this.deps.db
      .selectFrom('orgs')
      .select('deleted_at')
      .where('id', '=', recording.orgId)
      .executeTakeFirst();
    return org && org.deleted_at === null ? recording : null;
  }

  /**
   * Whether `caller` may append frames to the recording (model.ts `recordingControl`), checked
   * before the request body is read. A refusal is audited (`recording.frames_refused`) and answers
   * 403 INSUFFICIENT_ROLE: the caller is of the org and sees the recording listed anyway.
   */
  async authorizeFrames(
    id: string,
    caller: RecordingCaller & { actor: Actor },
    ip: string | null,
    now: Date,
  ): Promise<Failure | null> {
    const recording = await findRecording(this.deps.db, id);
    if (!recording) return fail('NOT_FOUND');
    const control = recordingControl(recording.startedBy, caller);
    if (control === 'refused') return this.#refuse(recording, 'frames', caller, ip, now);
    return null;
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
    const outcome = await this.#append(id, seq, parsed);
    if (outcome.ok && outcome.appended && shouldTouchLastFrame(recording.lastFrameAt, now)) {
      await touchLastFrame(this.deps.db, id, now);
    }
    return outcome;
  }

  /**
   * An upload's events, buffered under the id its recording will get once the whole file is in
   * (`start` with that id), so a refused upload leaves no recording behind (`discardStaged`).
   */
  stage(id: string, seq: number, frames: ParsedFrames): Promise<IngestOutcome> {
    return this.#append(id, seq, frames);
  }

  discardStaged(id: string): Promise<void> {
    return this.deps.buffer.discard(id);
  }

  async #append(id: string, seq: number, parsed: ParsedFrames): Promise<IngestOutcome> {
    const outcome = await this.deps.buffer.append(
      id,
      { seq, firstTime: parsed.firstTime, lastTime: parsed.lastTime, data: parsed.data },
      this.deps.maxBytes,
    );
    switch (outcome.kind) {
      case 'appended':
        return { ok: true, appended: true, bufferedBytes: outcome.bytes };
      case 'duplicate':
        return { ok: true, appended: false, bufferedBytes: null };
      case 'sealed':
        return fail('CONFLICT', 'The recording has stopped.');
      case 'over_cap':
        return fail(
          'PAYLOAD_TOO_LARGE',
          `The recording is too large: a recording holds at most ${bytesInWords(this.deps.maxBytes)}.`,
        );
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
   * Only the recording's starter or an admin+ may stop it (model.ts `recordingControl`); a refusal
   * is audited (`recording.stop_refused`), an admin's stop of someone else's recording carries
   * `byAdmin: true` in its `session.stopped` row.
   */
  async stop(
    id: string,
    caller: RecordingCaller & { actor: Actor },
    ip: string | null,
    now: Date,
  ): Promise<{ ok: true } | Failure> {
    const known = await findRecording(this.deps.db, id);
    if (!known) return fail('NOT_FOUND');
    const control = recordingControl(known.startedBy, caller);
    if (control === 'refused') return this.#refuse(known, 'stop', caller, ip, now);
    if (known.status === 'recording') {
      await this.#stop(known, { actor: caller.actor, ip, idle: false, byAdmin: control === 'admin' }, now);
    }
    return { ok: true };
  }

  async #refuse(
    recording: Recording,
    attempted: keyof typeof refusedAction,
    caller: RecordingCaller & { actor: Actor },
    ip: string | null,
    now: Date,
  ): Promise<Failure> {
    await this.deps.db.transaction().execute((tx) =>
      appendAudit(tx, {
        orgId: recording.orgId,
        action: refusedAction[attempted],
        actor: caller.actor,
        target: { type: 'recording', id: recording.id },
        metadata: { role: caller.role },
        ip,
        now,
      }),
    );
    const what = attempted === 'frames' ? 'append frames to' : 'stop';
    return fail(
      'INSUFFICIENT_ROLE',
      `Only whoever started this recording, or an admin or owner of the org, may ${what} it.`,
    );
  }

  /**
   * The sweep's stop for a recording whose client went quiet (lifecycle.ts `isIdle`): the same
   * effect as a user's stop, by the system actor, audited as idle. A frame that lands between the
   * check and the seal is kept and archived like any frame before a stop. True when it stopped.
   */
  async stopIdle(id: string, now: Date, idleStopMinutes: number): Promise<boolean> {
    const known = await findRecording(this.deps.db, id);
    if (!known || !isIdle(known, now, idleStopMinutes)) return false;
    return this.#stop(known, { actor: SYSTEM_ACTOR, ip: null, idle: true, byAdmin: false }, now);
  }

  async #stop(
    known: Recording,
    by: { actor: Actor; ip: string | null; idle: boolean; byAdmin: boolean },
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
          ...(by.byAdmin ? { byAdmin: true } : {}),
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
