/**
 * Live revocation: one entry per revoked session, keyed by its stream key
 * (SHA-256(SHA-256(token))), which connected clients watch. Implementations: Firestore
 * (production: a doc per key that clients read) and PostgreSQL (embedded: an unlogged table that
 * the server-sent-events route polls).
 */
export interface RevocationEntry {
  streamKey: string;
  revokedAt: Date;
  reason: string;
  /** After this the entry may be swept: the session would have expired anyway. */
  expiresAt: Date;
}

export interface RevocationFeed {
  /** Idempotent: publishing a key twice keeps the first entry. */
  publish(entry: RevocationEntry): Promise<void>;
  lookup(streamKey: string): Promise<RevocationEntry | null>;
  /** Removes entries whose expiresAt has passed; returns how many. */
  sweep(now: Date): Promise<number>;
}

export const STREAM_KEY_PATTERN = /^[0-9a-f]{64}$/;
