import { MINUTE_MS } from '../time/clock.js';
import type { Recording } from './store.js';

/**
 * When a recording's buffer may go without anyone asking: the rules of the hourly sweep
 * (sweep.ts), pure and taking `now`.
 */

/** `last_frame_at` is written at most once a minute per recording, so most appends add no write. */
export const LAST_FRAME_TOUCH_INTERVAL_MS = MINUTE_MS;

/**
 * How long an archived recording's buffer is left to the archive's own after-commit delete before
 * the sweep takes it over, so the two do not delete the same buffer at the same time.
 */
export const BUFFER_DISCARD_GRACE_MS = 10 * MINUTE_MS;

export function shouldTouchLastFrame(lastFrameAt: Date | null, now: Date): boolean {
  return lastFrameAt === null || now.getTime() - lastFrameAt.getTime() >= LAST_FRAME_TOUCH_INTERVAL_MS;
}

/** The last sign of life of a recording: its last frame, or its start if no frame came. */
export function lastActivityAt(recording: Pick<Recording, 'lastFrameAt' | 'startedAt'>): Date {
  return recording.lastFrameAt ?? recording.startedAt;
}

export interface SweepCutoffs {
  /** A live recording whose last activity is at or before this has gone quiet. */
  idleBefore: Date;
  /** An archived recording's leftover buffer is the sweep's once it was archived at or before this. */
  archivedBefore: Date;
}

/**
 * The stored last-frame time may lag the real one by up to the touch interval, so that interval is
 * added: a recording is never stopped before it has been silent for the whole setting.
 */
export function sweepCutoffs(now: Date, idleStopMinutes: number): SweepCutoffs {
  return {
    idleBefore: new Date(now.getTime() - idleStopMinutes * MINUTE_MS - LAST_FRAME_TOUCH_INTERVAL_MS),
    archivedBefore: new Date(now.getTime() - BUFFER_DISCARD_GRACE_MS),
  };
}

/** Still `recording`, but no frame for RECORDING_IDLE_STOP_MINUTES: its client is gone. */
export function isIdle(
  recording: Pick<Recording, 'status' | 'lastFrameAt' | 'startedAt'>,
  now: Date,
  idleStopMinutes: number,
): boolean {
  return (
    recording.status === 'recording' &&
    lastActivityAt(recording).getTime() <= sweepCutoffs(now, idleStopMinutes).idleBefore.getTime()
  );
}

/**
 * Archived, yet its buffer was never confirmed gone (the archive died between its commit and the
 * delete, and the redelivery was skipped as already processed). `failed` recordings never qualify:
 * their buffer is the only copy of the frames.
 */
export function bufferDiscardDue(
  recording: Pick<Recording, 'status' | 'archivedAt' | 'bufferDiscardedAt'>,
  now: Date,
): boolean {
  return (
    recording.status === 'archived' &&
    recording.bufferDiscardedAt === null &&
    recording.archivedAt !== null &&
    recording.archivedAt.getTime() <= now.getTime() - BUFFER_DISCARD_GRACE_MS
  );
}
