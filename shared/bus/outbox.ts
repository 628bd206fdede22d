import { type Kysely, sql, type Transaction } from 'kysely';
import type { Db } from '../db/connect.js';
import type { Database } from '../db/schema.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../log/metrics.js';
import { type Envelope, makeEnvelope, type TypedEnvelope } from './envelope.js';
import { assertUnitMayPublish } from './publishers.js';
import './tables.js';
import type { Topic, TopicInput } from './topics.js';

export type Tx = Transaction<Database> | Kysely<Database>;

/**
 * Writes an event into the outbox inside the caller's transaction: it is published only if the
 * change commits, and it cannot be lost once the change has committed.
 */
export async function enqueue<T extends Topic>(
  tx: Tx,
  topic: T,
  data: TopicInput<T>,
  options: { now: Date; orgId?: string },
): Promise<TypedEnvelope<T>> {
  assertUnitMayPublish(topic);
  const envelope = makeEnvelope(topic, data, options.now, options.orgId);
  await tx
    .insertInto('outbox')
    .values({ event_id: envelope.id, topic, envelope: JSON.stringify(envelope), last_error: null })
    .execute();
  return envelope;
}

export interface Publisher {
  publish(topic: Topic, envelope: Envelope): Promise<void>;
}

const MAX_BACKOFF_MS = 5 * 60 * 1000;

/**
 * Drains the outbox to the bus. Rows are locked with SKIP LOCKED so several instances can drain
 * at once without publishing a row twice; a row is deleted once the bus accepted it, and retried
 * with backoff when it did not. Given `topics`, only rows of those topics are drained: a deployed
 * unit may publish only to its own (shared/bus/publishers.ts), and leaves the rest to their units.
 */
export class OutboxRelay {
  #draining: Promise<number> | null = null;
  #again = false;

  constructor(
    private readonly db: Db,
    private readonly publisher: Publisher,
    private readonly logger: Logger,
    private readonly metrics: Metrics,
    private readonly topics: readonly Topic[] | null = null,
  ) {}

  /** Drains now; a call during a drain schedules one more pass, so no nudge is lost. */
  drain(): Promise<number> {
    if (this.#draining) {
      this.#again = true;
      return this.#draining;
    }
    this.#draining = (async () => {
      let total = 0;
      do {
        this.#again = false;
        total += await this.#drainBatches();
      } while (this.#again);
      return total;
    })().finally(() => {
      this.#draining = null;
    });
    return this.#draining;
  }

  async #drainBatches(): Promise<number> {
    const topics = this.topics;
    if (topics?.length === 0) return 0;
    let published = 0;
    for (;;) {
      const batch = await this.db.transaction().execute(async (tx) => {
        const rows = await tx
          .selectFrom('outbox')
          .select(['id', 'topic', 'envelope', 'attempts'])
          .where('next_attempt_at', '<=', sql<Date>`now()`)
          .$if(topics !== null, (q) => q.where('topic', 'in', topics as Topic[]))
          .orderBy('id')
          .limit(50)
          .forUpdate()
          .skipLocked()
          .execute();
        let sent = 0;
        for (const row of rows) {
          try {
            await this.publisher.publish(row.topic as Topic, row.envelope);
            await tx.deleteFrom('outbox').where('id', '=', row.id).execute();
            sent++;
          } catch (error) {
            this.metrics.increment('outbox_publish_errors', { topic: row.topic });
            this.logger.error('outbox publish failed', { topic: row.topic, eventId: row.envelope.id, error });
            const backoffMs = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** row.attempts);
            await tx
              .updateTable('outbox')
              .set({
                attempts: row.attempts + 1,
                last_error: String((error as Error).message ?? error).slice(0, 500),
                next_attempt_at: sql<Date>`now() + ${`${backoffMs} milliseconds`}::interval`,
              })
              .where('id', '=', row.id)
              .execute();
          }
        }
        return { fetched: rows.length, sent };
      });
      published += batch.sent;
      if (batch.fetched < 50 || batch.sent === 0) return published;
    }
  }
}
