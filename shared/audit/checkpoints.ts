import type { BlobStore } from '../blob/store.js';
import {
  checkpointKey,
  checkpointPrefix,
  checkpointSignatureValid,
  type SignedCheckpoint,
  type SigningKeys,
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
    private readonly keys: () => Promise<SigningKeys>,
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
    if (!parsed) return { seq: 0, hash: '', time: '', signatureValid: false };
    const { publicKey } = await this.keys();
    return {
      seq: parsed.seq,
      hash: parsed.hash,
      time: parsed.time,
      signatureValid: checkpointSignatureValid(parsed, publicKey),
    };
  }
}
