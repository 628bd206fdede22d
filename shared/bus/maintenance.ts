import type { Db } from '../db/connect.js';
import { DAY_MS } from '../time/clock.js';
import type { Tx } from './outbox.js';
import './tables.js';

/**
 * How long a consumer remembers an event id. Pub/Sub keeps an unacknowledged message for at most
 * 7 days (its longest retention), so after 8 no redelivery can arrive that the id would stop.
 */
export const PROCESSED_EVENT_RETENTION_MS = 8 * DAY_MS;

/** Forgets event ids no redelivery can still carry; returns how many. */
export async function forgetProcessedEvents(db: Db | Tx, now: Date): Promise<number> {
  const result = await db
    .deleteFrom('processed_events')
    .where('processed_at', '<', new Date(now.getTime() - PROCESSED_EVENT_RETENTION_MS))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
