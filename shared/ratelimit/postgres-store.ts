import type { Db } from '../db/connect.js';
import type { RateLimitStore } from './store.js';
import { decideHit, forgetHit, type WindowRule } from './window.js';

interface RateLimitsTable {
  key: string;
  hits: Date[];
  expires_at: Date;
}

declare module '../db/schema.js' {
  interface Database {
    rate_limits: RateLimitsTable;
  }
}

/** Rate-limit windows in an unlogged PostgreSQL table; the key's row lock makes each hit atomic. */
export class PostgresRateLimitStore implements RateLimitStore {
  constructor(private readonly db: Db) {}

  hit(key: string, now: Date, rule: WindowRule) {
    return this.db.transaction().execute(async (tx) => {
      await tx
        .insertInto('rate_limits')
        .values({ key, hits: [], expires_at: now })
        .onConflict((oc) => oc.column('key').doNothing())
        .execute();
      const row = await tx
        .selectFrom('rate_limits')
        .select('hits')
        .where('key', '=', key)
        .forUpdate()
        .executeTakeFirstOrThrow();
      const decision = decideHit(row.hits, now, rule);
      await tx
        .updateTable('rate_limits')
        .set({ hits: decision.hits, expires_at: new Date(now.getTime() + rule.windowMs) })
        .where('key', '=', key)
        .execute();
      return decision;
    });
  }

  async forget(key: string, at: Date): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      const row = await tx
        .selectFrom('rate_limits')
        .select('hits')
        .where('key', '=', key)
        .forUpdate()
        .executeTakeFirst();
      if (!row) return;
      await tx
        .updateTable('rate_limits')
        .set({ hits: forgetHit(row.hits, at) })
        .where('key', '=', key)
        .execute();
    });
  }

  /** Drops windows nobody touched for a whole window (run from the scheduler). */
  async sweep(now: Date): Promise<number> {
    const result = await this.db.deleteFrom('rate_limits').where('expires_at', '<', now).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** Drops every window (embedded mode's `npm run limits:reset`, never reachable deployed). */
  async clear(): Promise<number> {
    const result = await this.db.deleteFrom('rate_limits').executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
