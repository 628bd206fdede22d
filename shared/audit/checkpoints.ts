import type { KeyObject } from 'node:crypto';
import type { BlobStore } from '../blob/store.js';
import {
  checkpointKey,
  checkpointPrefix,
  checkpointSignatureValid,
  type SignedCheckpoint,
  signedCheckpointSchema,
} from './checkpoint.js';
import type { CheckpointSummary } from './verify.js';

/**
 * Signed checkpoints in the checkpoint bucket (GCS with a retention policy in production, so a
 * written checkpoint can be neither replaced nor deleted). One object per chain and seq.
 */
export class CheckpointStore {
  constructor(
    private readonly blobs: BlobStore,
    /** Public keys by key id (trustedKeyRing): a checkpoint signed by any other key is forged. */
    private readonly trustedKeys: () => Promise<ReadonlyMap<string, KeyObject>>,
  ) {}

  /** Writes once; a second write of the same chain and seq keeps the first. */
  async write(checkpoint: SignedCheckpoint): Promise<void> {
    await this.blobs.put(checkpointKey(checkpoint.chain, checkpoint.seq), JSON.stringify(checkpoint), {
      contentType: 'application/json',
      ifAbsent: true,
    });
  }

  /**
   * The chain's latest checkpoint and whether its signature holds. An object that is not a
   * checkpoint for this chain counts as a forged one rather than as none.
   */
  async latest(chain: string): Promise<CheckpointSummary | null> {
    const keys = await this.blobs.list(checkpointPrefix(chain));
    const key = keys.at(-1);
    if (!key) return null;
    const bytes = await this.blobs.get(key);
    let parsed: SignedCheckpoint | null = null;
    try {
      const candidate = signedCheckpointSchema.safeParse(JSON.parse(bytes?.toString('utf8') ?? ''));
      if (
        candidate.success &&
        candidate.data.chain === chain &&
        key === checkpointKey(chain, candidate.data.seq)
      ) {
        parsed = candidate.data;
      }
    } catch {
      parsed = null;
    }
    if (!parsed) return { seq: 0, hash: '', time: '', keyId: null, signatureValid: false };
    const publicKey = (await this.trustedKeys()).get(parsed.keyId);
    return {
      seq: parsed.seq,
      hash: parsed.hash,
      time: parsed.time,
      keyId: parsed.keyId,
      signatureValid: publicKey !== undefined && checkpointSignatureValid(parsed, publicKey),
    };
  }
}
