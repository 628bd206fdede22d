// Types only: a value import of the SDK would be hoisted to the top of every bundle that contains
// this file and load all of Firestore at cold start, chosen or not. Dates are written as they are
// (the SDK stores a Date as a timestamp) and read back as Timestamps.
import type { Firestore, Timestamp } from '@google-cloud/firestore';
import type { RevocationEntry, RevocationFeed } from './revocation-feed.js';

export const REVOCATIONS_COLLECTION = 'revocations';
const SWEEP_BATCH = 400;

/**
 * The production feed: doc `revocations/{streamKey}`, written only by the service account.
 * firestore.rules let a client get exactly the doc whose id it knows (its own stream key) and
 * nothing else; `expiresAt` also drives a Firestore TTL policy.
 */
export class FirestoreRevocationFeed implements RevocationFeed {
  constructor(private readonly firestore: Firestore) {}

  async publish(entry: RevocationEntry): Promise<void> {
    try {
      await this.#doc(entry.streamKey).create({
        revokedAt: entry.revokedAt,
        reason: entry.reason,
        expiresAt: entry.expiresAt,
      });
    } catch (error) {
      // ALREADY_EXISTS: a redelivery; the first entry stands.
      if ((error as { code?: number }).code !== 6) throw error;
    }
  }

  async lookup(streamKey: string): Promise<RevocationEntry | null> {
    const snapshot = await this.#doc(streamKey).get();
    const data = snapshot.data();
    if (!data) return null;
    return {
      streamKey,
      revokedAt: (data.revokedAt as Timestamp).toDate(),
      reason: String(data.reason),
      expiresAt: (data.expiresAt as Timestamp).toDate(),
    };
  }

  async sweep(now: Date): Promise<number> {
    let removed = 0;
    for (;;) {
      const due = await this.firestore
        .collection(REVOCATIONS_COLLECTION)
        .where('expiresAt', '<', now)
        .limit(SWEEP_BATCH)
        .get();
      if (due.empty) return removed;
      const batch = this.firestore.batch();
      for (const doc of due.docs) batch.delete(doc.ref);
      await batch.commit();
      removed += due.size;
    }
  }

  #doc(streamKey: string) {
    return this.firestore.collection(REVOCATIONS_COLLECTION).doc(streamKey);
  }
}
