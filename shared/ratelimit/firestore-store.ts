// Types only: a value import of the SDK would be hoisted to the top of every bundle that contains
// this file and load all of Firestore at cold start, chosen or not. Dates are written as they are
// (the SDK stores a Date as a timestamp) and read back as Timestamps.
import type { Firestore, Timestamp } from '@google-cloud/firestore';
import { sha256Hex } from '../crypto/tokens.js';
import type { RateLimitStore } from './store.js';
import { decideHit, forgetHit, type WindowDecision, type WindowRule } from './window.js';

export const RATE_LIMITS_COLLECTION = 'rateLimits';
/** Compare-and-set rounds before a hit gives up; a key this contended is under a burst. */
const MAX_ROUNDS = 25;
const ALREADY_EXISTS = 6;

/**
 * Rate-limit windows in Firestore as a compare-and-set log: each state of a key is a new doc
 * `{keyHash}.{version}` made with `create`, which fails if another writer took that version
 * first, so concurrent hits never overshoot (then we re-read and decide again with the same pure
 * `decideHit` as PostgreSQL). Keys are hashed because they hold `/`. A key still contended after
 * MAX_ROUNDS is refused (retry in 1 s) rather than let through: a burst must not pass the limit.
 * Superseded versions are deleted; `expiresAt` drives a TTL policy for the rest.
 */
export class FirestoreRateLimitStore implements RateLimitStore {
  constructor(private readonly firestore: Firestore) {}

  async hit(key: string, now: Date, rule: WindowRule): Promise<WindowDecision> {
    const keyHash = sha256Hex(key);
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const latest = await this.#latest(keyHash);
      const decision = decideHit(latest.hits, now, rule);
      if (!decision.allowed) return decision;
      if (
        await this.#write(keyHash, latest.version + 1, decision.hits, new Date(now.getTime() + rule.windowMs))
      ) {
        await this.#retire(keyHash, latest.version);
        return decision;
      }
    }
    return { allowed: false, hits: [], retryAfterSeconds: 1 };
  }

  async forget(key: string, at: Date, rule: WindowRule): Promise<void> {
    const keyHash = sha256Hex(key);
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const latest = await this.#latest(keyHash);
      if (latest.version === 0) return;
      const hits = forgetHit(latest.hits, at);
      if (hits.length === latest.hits.length) return;
      const expiresAt = new Date(Math.max(at.getTime() + rule.windowMs, latest.expiresAt.getTime()));
      if (await this.#write(keyHash, latest.version + 1, hits, expiresAt)) {
        await this.#retire(keyHash, latest.version);
        return;
      }
    }
  }

  async #latest(keyHash: string): Promise<{ version: number; hits: Date[]; expiresAt: Date }> {
    const found = await this.firestore
      .collection(RATE_LIMITS_COLLECTION)
      .where('key', '==', keyHash)
      .orderBy('version', 'desc')
      .limit(1)
      .get();
    const data = found.docs[0]?.data();
    if (!data) return { version: 0, hits: [], expiresAt: new Date(0) };
    return {
      version: Number(data.version),
      hits: (data.hits as Timestamp[]).map((hit) => hit.toDate()),
      expiresAt: (data.expiresAt as Timestamp).toDate(),
    };
  }

  /** False when another writer created this version first. */
  async #write(keyHash: string, version: number, hits: Date[], expiresAt: Date): Promise<boolean> {
    try {
      await this.#doc(keyHash, version).create({
        key: keyHash,
        version,
        hits,
        expiresAt,
      });
      return true;
    } catch (error) {
      if ((error as { code?: number }).code === ALREADY_EXISTS) return false;
      throw error;
    }
  }

  async #retire(keyHash: string, version: number): Promise<void> {
    if (version > 0) await this.#doc(keyHash, version).delete();
  }

  #doc(keyHash: string, version: number) {
    return this.firestore.collection(RATE_LIMITS_COLLECTION).doc(`${keyHash}.${version}`);
  }
}
