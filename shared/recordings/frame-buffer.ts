import type { Tx } from '../bus/outbox.js';

/** One request's validated events, keyed by the client's sequence number. */
export interface FrameChunk {
  seq: number;
  firstTime: number;
  lastTime: number;
  /** NDJSON event lines (UTF-8, validated JSON, so never a NUL), each ending in "\n". */
  data: Buffer;
}

/**
 * What happened to an append, checked in this order: a seq already held is ignored (so a client
 * can retry freely), a sealed buffer takes nothing more, the byte cap holds, and event times stay
 * non-decreasing across neighbouring seqs (chunks may arrive out of order).
 */
export type AppendOutcome =
  | { kind: 'appended'; bytes: number }
  | { kind: 'duplicate' }
  | { kind: 'sealed' }
  | { kind: 'over_cap'; bytes: number }
  | { kind: 'time_goes_back'; against: 'previous' | 'next' };

/**
 * Frames of a live recording, waiting for the archive unit. Firestore in production (chunk
 * documents under the recording), unlogged PostgreSQL tables embedded; one contract suite
 * (tests/contracts/frame-buffer.test.ts) holds both to the same behaviour.
 */
export interface FrameBuffer {
  append(recordingId: string, chunk: FrameChunk, capBytes: number): Promise<AppendOutcome>;
  /** After this, appends answer `sealed`: the stop waits for no straggler. Idempotent. */
  seal(recordingId: string): Promise<void>;
  /**
   * The buffered bytes in seq order, a piece at a time (memory stays flat in recording size).
   * `within` is the caller's open PostgreSQL transaction (the archive consumer holds one; PGlite
   * has a single connection); the Firestore buffer does not need it.
   */
  read(recordingId: string, within?: Tx): AsyncIterable<Buffer>;
  /** Drops the buffer; a no-op when it is already gone. */
  discard(recordingId: string): Promise<void>;
}
