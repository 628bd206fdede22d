import { describe, expect, it } from 'vitest';
import { MINUTE_MS, SECOND_MS } from '../time/clock.js';
import {
  BUFFER_DISCARD_GRACE_MS,
  bufferDiscardDue,
  isIdle,
  LAST_FRAME_TOUCH_INTERVAL_MS,
  lastActivityAt,
  shouldTouchLastFrame,
  sweepCutoffs,
} from './lifecycle.js';
import type { RecordingStatus } from './model.js';

const startedAt = new Date('2026-05-04T08:00:00Z');
const at = (ms: number) => new Date(startedAt.getTime() + ms);
const live = (lastFrameAt: Date | null, status: RecordingStatus = 'recording') => ({
  status,
  startedAt,
  lastFrameAt,
});
const archived = (archivedAt: Date | null, bufferDiscardedAt: Date | null, status: RecordingStatus) => ({
  status,
  archivedAt,
  bufferDiscardedAt,
});

describe('the idle stop', () => {
  const idle = 60;
  /** The first instant a recording last active at `t` counts as idle. */
  const idleFrom = (t: number) => t + idle * MINUTE_MS + LAST_FRAME_TOUCH_INTERVAL_MS;

  it('a recording is idle once its last frame is older than the setting plus the touch interval', () => {
    const lastFrame = at(30 * MINUTE_MS);
    expect(isIdle(live(lastFrame), at(idleFrom(30 * MINUTE_MS) - 1), idle)).toBe(false);
    expect(isIdle(live(lastFrame), at(idleFrom(30 * MINUTE_MS)), idle)).toBe(true);
  });

  it('a recording without frames is judged from its start', () => {
    expect(lastActivityAt(live(null))).toEqual(startedAt);
    expect(isIdle(live(null), at(idleFrom(0) - 1), idle)).toBe(false);
    expect(isIdle(live(null), at(idleFrom(0)), idle)).toBe(true);
  });

  it('only a recording still recording can be idle', () => {
    for (const status of ['archiving', 'archived', 'failed'] as const) {
      expect(isIdle(live(null, status), at(idleFrom(0) + 365 * 24 * 60 * MINUTE_MS), idle)).toBe(false);
    }
  });

  it('the cut-off the store queries with is the one isIdle applies', () => {
    const now = at(5 * 60 * MINUTE_MS);
    const { idleBefore } = sweepCutoffs(now, idle);
    expect(isIdle(live(idleBefore), now, idle)).toBe(true);
    expect(isIdle(live(new Date(idleBefore.getTime() + 1)), now, idle)).toBe(false);
  });
});

describe('touching the last-frame time', () => {
  it('writes it for the first frame, then at most once per touch interval', () => {
    expect(shouldTouchLastFrame(null, startedAt)).toBe(true);
    expect(shouldTouchLastFrame(startedAt, at(LAST_FRAME_TOUCH_INTERVAL_MS - SECOND_MS))).toBe(false);
    expect(shouldTouchLastFrame(startedAt, at(LAST_FRAME_TOUCH_INTERVAL_MS))).toBe(true);
  });
});

describe('leftover buffers of archived recordings', () => {
  const archivedAt = at(0);

  it('are due once the grace period after archiving is over, until confirmed gone', () => {
    expect(bufferDiscardDue(archived(archivedAt, null, 'archived'), at(BUFFER_DISCARD_GRACE_MS - 1))).toBe(
      false,
    );
    expect(bufferDiscardDue(archived(archivedAt, null, 'archived'), at(BUFFER_DISCARD_GRACE_MS))).toBe(true);
    expect(
      bufferDiscardDue(archived(archivedAt, archivedAt, 'archived'), at(BUFFER_DISCARD_GRACE_MS * 100)),
    ).toBe(false);
  });

  it('a failed, archiving or live recording keeps its buffer: it holds the only copy of the frames', () => {
    for (const status of ['failed', 'archiving', 'recording'] as const) {
      expect(bufferDiscardDue(archived(archivedAt, null, status), at(BUFFER_DISCARD_GRACE_MS * 100))).toBe(
        false,
      );
    }
  });

  it('the cut-off the store queries with is the one bufferDiscardDue applies', () => {
    const now = at(3 * 60 * MINUTE_MS);
    const { archivedBefore } = sweepCutoffs(now, 60);
    expect(bufferDiscardDue(archived(archivedBefore, null, 'archived'), now)).toBe(true);
    expect(bufferDiscardDue(archived(new Date(archivedBefore.getTime() + 1), null, 'archived'), now)).toBe(
      false,
    );
  });
});
