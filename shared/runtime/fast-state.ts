import type { Tx } from '../bus/outbox.js';
import { GuardedRateLimitStore } from '../ratelimit/guarded-store.js';
import { PostgresRateLimitStore } from '../ratelimit/postgres-store.js';
import type { RateLimitStore } from '../ratelimit/store.js';
import { PostgresRevocationFeed } from '../sessions/postgres-revocation-feed.js';
import type { RevocationFeed } from '../sessions/revocation-feed.js';
import type { Platform } from './platform.js';

export interface FastState {
  rateLimits: RateLimitStore;
  revocationFeed: RevocationFeed;
  /** The feed to write from inside a consumer's transaction (PGlite has one connection). */
  revocationFeedIn: (tx: Tx) => RevocationFeed;
}

/**
 * Fast, expiring state by FAST_STATE_STORE: Firestore in production, unlogged PostgreSQL tables
 * in embedded mode. Firestore is loaded only when chosen.
 */
export async function fastState(p: Platform): Promise<FastState> {
  if (p.config.fastStateStore === 'postgres') {
    return {
      rateLimits: new PostgresRateLimitStore(p.db),
      revocationFeed: new PostgresRevocationFeed(p.db),
      revocationFeedIn: (tx) => new PostgresRevocationFeed(tx),
    };
  }
  const { Firestore } = await import('@google-cloud/firestore');
  const { FirestoreRateLimitStore } = await import('../ratelimit/firestore-store.js');
  const { FirestoreRevocationFeed } = await import('../sessions/firestore-revocation-feed.js');
  const firestore = new Firestore({
    projectId: p.config.googleCloudProject,
    ignoreUndefinedProperties: true,
  });
  const revocationFeed = new FirestoreRevocationFeed(firestore);
  return {
    rateLimits: new GuardedRateLimitStore(new FirestoreRateLimitStore(firestore)),
    revocationFeed,
    revocationFeedIn: () => revocationFeed,
  };
}
