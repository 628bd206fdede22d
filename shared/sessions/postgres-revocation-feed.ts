import type { Tx } from '../bus/outbox.js';
import type { RevocationEntry, RevocationFeed } from './revocation-feed.js';
import './tables.js';

/**
 * The embedded-mode feed: an unlogged table, one row per stream key. Built over a transaction
 * inside the revocations consumer, so the row commits with the event's processed mark.
 */
export class PostgresRevocationFeed implements RevocationFeed {
  constructor(private readonly db: Tx) {}

  async publish(entry: RevocationEntry): Promise<void> {
    await this.db
      .insertInto('revocation_feed')
      .values({
        stream_key: entry.streamKey,
        revoked_at: entry.revokedAt,
        reason: entry.reason,
        expires_at: entry.expiresAt,
      })
      .onConflict((oc) => oc.column('stream_key').doNothing())
      .execute();
  }

  async lookup(streamKey: string): Promise<RevocationEntry | null> {
    const row = await this.db
      .selectFrom('revocation_feed')
      .selectAll()
      .where('stream_key', '=', streamKey)
      .executeTakeFirst();
    return row
      ? {
          streamKey: row.stream_key,
          revokedAt: row.revoked_at,
          reason: row.reason,
          expiresAt: row.expires_at,
        }
      : null;
  }

  async sweep(now: Date): Promise<number> {
    const result = await this.db
      .deleteFrom('revocation_feed')
      .where('expires_at', '<', now)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
