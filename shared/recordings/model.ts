import type { Issue } from '../errors/codes.js';
import { atLeast, type OrgRole } from '../orgs/model.js';

export const recordingStatuses = ['recording', 'archiving', 'archived', 'failed'] as const;
export type RecordingStatus = (typeof recordingStatuses)[number];

/**
 * The most event text one append carries: a frames request's body limit, and the batch size an
 * asciinema upload is cut into, so the frame buffer is fed in the same bounded pieces either way.
 */
export const FRAME_BATCH_MAX_BYTES = 4 * 1024 * 1024;

/** asciicast v2 event types: output, input, resize, marker. */
const EVENT_TYPES = new Set(['o', 'i', 'r', 'm']);

/** One request's events, validated and normalized to NDJSON lines each ending in "\n". */
export interface ParsedFrames {
  ok: true;
  data: Buffer;
  firstTime: number;
  lastTime: number;
  eventCount: number;
  lineCount: number;
}

export type FramesResult = ParsedFrames | { ok: false; issues: Issue[] };

const lineIssue = (line: number, message: string): { ok: false; issues: Issue[] } => ({
  ok: false,
  issues: [{ path: `line ${line}`, message: `line ${line}: ${message}` }],
});

/**
 * Validates an NDJSON body of asciicast v2 events `[time, type, data]`: time a finite number of
 * seconds ≥ 0 that never goes back, type one of o/i/r/m, data a string. Blank lines are skipped;
 * line numbers in failures count every line of the body, from 1 (plus `lineOffset` for a piece
 * of a longer file). `notBefore`: the last time of the events before this piece.
 */
export function parseFrames(
  body: Buffer,
  options: { lineOffset?: number; notBefore?: number } = {},
): FramesResult {
  const text = body.toString('utf8');
  const lines = text.split('\n');
  const kept: string[] = [];
  let firstTime = Number.NaN;
  let lastTime = options.notBefore ?? Number.NaN;
  for (let index = 0; index < lines.length; index++) {
    const line = (lines[index] ?? '').replace(/\r$/, '').trim();
    if (line === '') continue;
    const number = index + 1 + (options.lineOffset ?? 0);
    let event: unknown;
    try {
      event = JSON.parse(line);
    } catch {
      return lineIssue(number, 'not valid JSON');
    }
    if (!Array.isArray(event) || event.length !== 3) {
      return lineIssue(number, 'an event is a JSON array [time, type, data]');
    }
    const [time, type, data] = event as [unknown, unknown, unknown];
    if (typeof time !== 'number' || !Number.isFinite(time) || time < 0) {
      return lineIssue(number, 'time must be a number of seconds ≥ 0');
    }
    if (typeof type !== 'string' || !EVENT_TYPES.has(type)) {
      return lineIssue(number, 'type must be one of "o", "i", "r", "m"');
    }
    if (typeof data !== 'string') return lineIssue(number, 'data must be a string');
    if (time < lastTime) return lineIssue(number, `time goes back (${time} after ${lastTime})`);
    if (Number.isNaN(firstTime)) firstTime = time;
    lastTime = time;
    kept.push(line);
  }
  if (kept.length === 0) {
    return lineIssue(1 + (options.lineOffset ?? 0), 'the body holds no events');
  }
  return {
    ok: true,
    data: Buffer.from(`${kept.join('\n')}\n`, 'utf8'),
    firstTime,
    lastTime,
    eventCount: kept.length,
    lineCount: lines.length,
  };
}

/** The first line of an asciicast v2 file. */
export function asciicastHeader(recording: {
  width: number;
  height: number;
  startedAt: Date;
  title: string;
}): string {
  return `${JSON.stringify({
    version: 2,
    width: recording.width,
    height: recording.height,
    timestamp: Math.floor(recording.startedAt.getTime() / 1000),
    title: recording.title,
  })}\n`;
}

/** Where a recording's archive lives in the recordings bucket. */
export function archiveKey(orgId: string, recordingId: string): string {
  return `orgs/${orgId}/recordings/${recordingId}.cast.gz`;
}

export const PLAYBACK_URL_TTL_SECONDS = 15 * 60;
export const ASCIICAST_CONTENT_TYPE = 'application/x-asciicast';

/** Who acts on a recording: a user or an API key, and their role in the recording's org. */
export interface RecordingCaller {
  actor: { type: string; id: string | null };
  role: OrgRole;
}

export type RecordingControl = 'starter' | 'admin' | 'refused';

/**
 * Who may append frames to, or stop, a live recording: the principal that started it (the same
 * user, or the same API key; another key of the org is someone else), else an admin or owner of
 * the org. A recording that names no starter (none was stored) is admin+ only.
 */
export function recordingControl(
  startedBy: { type: string; id: string | null },
  caller: RecordingCaller,
): RecordingControl {
  if (startedBy.id !== null && startedBy.type === caller.actor.type && startedBy.id === caller.actor.id) {
    return 'starter';
  }
  return atLeast(caller.role, 'admin') ? 'admin' : 'refused';
}
