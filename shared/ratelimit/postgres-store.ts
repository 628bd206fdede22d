import { sql } from 'kysely';
import type { Db } from '../db/connect.js';
import type { RateLimitStore } from './store.js';
import { decideHit, forgetHit, type WindowDecision, type WindowRule } from './window.js';

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

const OPTIMISTIC_ATTEMPTS = 3;

function changed(
  result: { numUpdatedRows?: bigint; numInsertedOrUpdatedRows?: bigint } | undefined,
): boolean {
  return (result?.numUpdatedRows ?? result?.numInsertedOrUpdatedRows ?? 0n) > 0n;
}

/**
 * Rate-limit windows in an unlogged PostgreSQL table. Each change is a compare-and-swap: read the
 * key's hits, decide, then write only if the hits are still the ones read (else read again). Two
 * statements per hit instead of a locked transaction's five (begin, insert, select for update,
 * update, commit); after a few lost races (a burst on one key) it takes the row lock instead.
 */
export class PostgresRateLimitStore implements RateLimitStore {
  constructor(private readonly db: Db) {}

  async hit(key: string, now: Date, rule: WindowRule): Promise<WindowDecision> {
    const expiresAt = new Date(now.getTime() + rule.windowMs);
    for (let attempt = 0; attempt < OPTIMISTIC_ATTEMPTS; attempt++) {
      const row = await this.#hits(key);
      const decision = decideHit(row?.hits ?? [], now, rule);
      const written = row
        ? await this.db
            .updateTable('rate_limits')
            .set({ hits: decision.hits, expires_at: expiresAt })
            .where('key', '=', key)
            .where('hits', '=', sql.val(row.hits)) // only if nobody changed them since the read
            .executeTakeFirst()
        : await this.db
            .insertInto('rate_limits')
            .values({ key, hits: decision.hits, expires_at: expiresAt })
            .onConflict((oc) => oc.column('key').doNothing())
            .executeTakeFirst();
      if (changed(written)) return decision;
    }
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
        .set({ hits: decision.hits, expires_at: expiresAt })
        .where('key', '=', key)
        .execute();
      return decision;
    });
  }

  #hits(key: string) {
    return this.db.selectFrom('rate_limits').select('hits').where('key', '=', key).executeTakeFirst();
  }

  async forget(key: string, at: Date): Promise<void> {
    for (let attempt = 0; attempt < OPTIMISTIC_ATTEMPTS; attempt++) {
      const row = await this.#hits(key);
      if (!row) return;
      const written = await this.db
        .updateTable('rate_limits')
        .set({ hits: forgetHit(row.hits, at) })
        .where('key', '=', key)
        .where('hits', '=', sql.val(row.hits))
        .executeTakeFirst();
      if (changed(written)) return;
    }
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
