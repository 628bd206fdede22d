import { GENESIS_HASH, rowHash } from './chain.js';
import type { StoredRow } from './store.js';

export type BreakReason =
  | 'missing_rows'
  | 'prev_hash_mismatch'
  | 'hash_mismatch'
  | 'checkpoint_mismatch'
  | 'missing_tail'
  | 'head_mismatch'
  | 'checkpoint_signature_invalid';

export interface CheckpointSummary {
  seq: number;
  hash: string;
  time: string;
  /** The signing key's id (first 16 hex of SHA-256 of its SPKI); null when the object is unreadable. */
  keyId: string | null;
  /** False for a bad signature and for a key that is neither the current nor a trusted retired one. */
  signatureValid: boolean;
}

export interface VerifyReport {
  valid: boolean;
  /** Rows read (the whole chain up to its head, whether or not it broke). */
  count: number;
  /** Hash of the last row read; null for an empty chain. */
  headHash: string | null;
  /** The first seq that is wrong or missing; null when valid (or only the checkpoint is bad). */
  brokenAtSeq: number | null;
  reason: BreakReason | null;
  checkpoint: CheckpointSummary | null;
}

export interface VerifyInput {
  /** The chain in seq order, a page at a time (AuditStore.pages). */
  pages: AsyncIterable<readonly StoredRow[]>;
  /** Start after this already-trusted link (the signer re-verifies only what is new). */
  from?: { seq: number; hash: string };
  /** The chain head read before streaming; rows beyond it are later appends and are ignored. */
  head: { seq: number; hash: string } | null;
  checkpoint: CheckpointSummary | null;
}

/**
 * Recomputes every link: seqs must run without gaps, each row must point at its predecessor's
 * hash and hash to its stored hash. A tail cut off below the head or the latest signed checkpoint
 * is reported at the first missing seq; an intact-looking chain that disagrees with the checkpoint
 * at its seq has been rewritten from there or earlier.
 */
export async function verifyChain(input: VerifyInput): Promise<VerifyReport> {
  const { head, checkpoint } = input;
  let expectedSeq = (input.from?.seq ?? 0) + 1;
  let prev = input.from?.hash ?? GENESIS_HASH;
  let lastSeq = input.from?.seq ?? 0;
  let headHash: string | null = input.from?.hash ?? null;
  let count = 0;
  let brokenAtSeq: number | null = null;
  let reason: BreakReason | null = null;
  const breakAt = (seq: number, why: BreakReason) => {
    if (brokenAtSeq === null) {
      brokenAtSeq = seq;
      reason = why;
    }
  };

  pages: for await (const page of input.pages) {
    for (const row of page) {
      if (head && row.seq > head.seq) break pages;
      count++;
      if (brokenAtSeq === null) {
        if (row.seq !== expectedSeq) breakAt(expectedSeq, 'missing_rows');
        else if (row.prevHash !== prev) breakAt(row.seq, 'prev_hash_mismatch');
        else if (rowHash(prev, row) !== row.hash) breakAt(row.seq, 'hash_mismatch');
        else if (checkpoint && row.seq === checkpoint.seq && row.hash !== checkpoint.hash) {
          breakAt(row.seq, 'checkpoint_mismatch');
        }
      }
      prev = row.hash;
      expectedSeq = row.seq + 1;
      lastSeq = row.seq;
      headHash = row.hash;
    }
  }

  if (checkpoint && lastSeq < checkpoint.seq) breakAt(lastSeq + 1, 'missing_tail');
  if (head) {
    if (head.seq > lastSeq) breakAt(lastSeq + 1, 'missing_tail');
    else if (head.seq === lastSeq && head.hash !== headHash) breakAt(lastSeq, 'head_mismatch');
  } else if (count > 0) {
    breakAt(1, 'head_mismatch');
  }
  const signatureOk = checkpoint === null || checkpoint.signatureValid;
  if (!signatureOk && reason === null) reason = 'checkpoint_signature_invalid';
  return { valid: brokenAtSeq === null && signatureOk, count, headHash, brokenAtSeq, reason, checkpoint };
}
