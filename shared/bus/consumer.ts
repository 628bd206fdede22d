import type { CloudEvent } from '@google-cloud/functions-framework';
import { z } from 'zod';
import type { Db } from '../db/connect.js';
import { GroupCommitter } from '../db/group-commit.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../log/metrics.js';
import { parseEnvelope, type TypedEnvelope } from './envelope.js';
import type { Tx } from './outbox.js';
import { scheduledTickEnvelope } from './scheduled.js';
import './tables.js';
import { type Topic, topicSchemas } from './topics.js';

/** The Pub/Sub "messagePublished" CloudEvent data, as Eventarc and push subscriptions deliver it. */
const pubsubDataSchema = z.object({
  message: z.object({
    data: z.string().optional(),
    attributes: z.record(z.string(), z.string()).optional(),
    messageId: z.string().optional(),
  }),
  subscription: z.string().optional(),
});

/**
 * A handler may return work to run once its transaction has committed (e.g. deleting what a
 * committed change made redundant). If that work fails, the event is un-marked and rethrown, so the
 * bus redelivers and the handler, idempotent, hands the work back again.
 */
export type AfterCommit = () => Promise<void>;

export type TopicHandlers = {
  [T in Topic]?: (envelope: TypedEnvelope<T>, tx: Tx) => Promise<undefined | AfterCommit>;
};

/**
 * Topics whose deliveries may be handled in batches. Deliveries with the same key that arrive
 * while that key's transaction is in flight are claimed and handled together in the next one
 * (GroupCommitter), which commits once. For work that serializes on one row anyway, such as
 * appends to one audit chain. A delivery whose key is null takes the topic's ordinary handler.
 */
export type BatchHandlers = {
  [T in Topic]?: {
    key: (envelope: TypedEnvelope<T>) => string | null;
    /** The batch's newly claimed envelopes (each event id once), in arrival order, in its transaction. */
    handle: (envelopes: TypedEnvelope<T>[], tx: Tx) => Promise<void>;
  };
};

export interface ConsumerDeps {
  db: Db;
  logger: Logger;
  metrics: Metrics;
  /** Publishes what handlers wrote to the outbox right after their transaction commits. */
  relay?: { drain(): Promise<number> };
}

/**
 * Wraps per-topic handlers into one CloudEvent function. Each event is handled at most once per
 * consumer: the event id is recorded in `processed_events` in the handler's own transaction, so a
 * redelivery after success is a no-op and a failure (which throws, so Pub/Sub redelivers and
 * eventually dead-letters) leaves no record. Malformed messages are logged and acknowledged:
 * redelivering them could never succeed.
 * Handlers must do all their database work through `tx`: on PGlite this transaction holds the
 * only connection, so a query on the plain `db` inside a handler would wait forever.
 */
export function consumer(
  name: string,
  handlers: TopicHandlers,
  deps: () => Promise<ConsumerDeps>,
  batchHandlers: BatchHandlers = {},
) {
  return async (event: CloudEvent<unknown>): Promise<void> => {
    const { db, logger, metrics, relay } = await deps();
    const log = logger.child({ consumer: name, cloudEventId: event.id });
    const pubsub = pubsubDataSchema.safeParse(event.data);
    if (!pubsub.success) {
      log.error('dropping event that is not a Pub/Sub message');
      return;
    }
    const topic = topicOf(pubsub.data);
    if (!topic || !handlers[topic]) {
      log.error('dropping message for a topic this consumer does not handle', { topic });
      return;
    }
    let raw: unknown;
    try {
      raw = JSON.parse(Buffer.from(pubsub.data.message.data ?? '', 'base64').toString('utf8'));
    } catch {
      log.error('dropping message whose data is not JSON', { topic });
      return;
    }
    if (pubsub.data.message.attributes?.scheduled === 'true') {
      raw =
        scheduledTickEnvelope(
          topic,
          pubsub.data.message.messageId ?? event.id,
          event.time ?? new Date().toISOString(),
        ) ?? raw;
    }
    const parsed = parseEnvelope(topic, raw);
    if (!parsed.ok) {
      log.error('dropping invalid envelope', { topic, reason: parsed.reason });
      return;
    }
    const envelope = parsed.envelope;
    const handler = handlers[topic] as (
      envelope: TypedEnvelope<Topic>,
      tx: Tx,
    ) => Promise<undefined | AfterCommit>;
    // Claiming the event id and handling it commit together.
    const handle = async (tx: Tx): Promise<{ claimed: boolean; after?: AfterCommit }> => {
      if ((await claimEvents(tx, name, [envelope.id])).size === 0) return { claimed: false };
      const after = await handler(envelope, tx);
      return after ? { claimed: true, after } : { claimed: true };
    };
    const batching = batchHandlers[topic] as BatchHandler | undefined;
    const batchKey = batching?.key(envelope) ?? null;
    try {
      if (batching && batchKey !== null) {
        const handled = await committerFor(db, name, topic, batching).run(batchKey, envelope);
        if (!handled) log.info('event already processed', { topic, eventId: envelope.id });
      } else {
        const outcome = await db.transaction().execute(handle);
        if (!outcome.claimed) log.info('event already processed', { topic, eventId: envelope.id });
        if (outcome.after) {
          await outcome.after().catch(async (error: unknown) => {
            await db
              .deleteFrom('processed_events')
              .where('consumer', '=', name)
              .where('event_id', '=', envelope.id)
              .execute();
            throw error;
          });
        }
      }
    } catch (error) {
      metrics.increment('consumer_failures', { consumer: name, topic });
      log.error('event handler failed; the bus will redeliver', { topic, eventId: envelope.id, error });
      throw error;
    }
    // Events a handler queued (alerts, follow-up work) leave now, not at some later HTTP request.
    await relay?.drain().catch((error: unknown) => log.error('publishing after an event failed', { error }));
  };
}

/**
 * One committer per database, consumer and topic for the life of the instance: units register
 * their function per event, and batches form only if concurrent deliveries find the same queue.
 */
const committers = new WeakMap<Db, Map<string, GroupCommitter<TypedEnvelope<Topic>, boolean>>>();

function committerFor(db: Db, consumerName: string, topic: Topic, batching: BatchHandler) {
  let forDb = committers.get(db);
  if (!forDb) {
    forDb = new Map();
    committers.set(db, forDb);
  }
  const id = `${consumerName}:${topic}`;
  let committer = forDb.get(id);
  if (!committer) {
    committer = new GroupCommitter(db, (tx, envelopes) =>
      claimAndHandle(tx, consumerName, envelopes, batching),
    );
    forDb.set(id, committer);
  }
  return committer;
}

type BatchHandler = {
  key: (envelope: TypedEnvelope<Topic>) => string | null;
  handle: (envelopes: TypedEnvelope<Topic>[], tx: Tx) => Promise<void>;
};

/** Records event ids as processed by this consumer; answers those that were not already. */
async function claimEvents(tx: Tx, consumerName: string, ids: string[]): Promise<Set<string>> {
  const rows = await tx
    .insertInto('processed_events')
    .values(ids.map((id) => ({ consumer: consumerName, event_id: id })))
    .onConflict((oc) => oc.doNothing())
    .returning('event_id')
    .execute();
  return new Set(rows.map((row) => row.event_id));
}

/**
 * A batch's work: claims its event ids in one statement, hands the newly claimed envelopes (each
 * id once) to the batch handler, and answers per envelope whether it was the one handled.
 */
async function claimAndHandle(
  tx: Tx,
  consumerName: string,
  envelopes: TypedEnvelope<Topic>[],
  batching: BatchHandler,
): Promise<boolean[]> {
  const claimed = await claimEvents(tx, consumerName, [...new Set(envelopes.map((e) => e.id))]);
  const fresh: TypedEnvelope<Topic>[] = [];
  const handled = envelopes.map((envelope) => {
    if (!claimed.has(envelope.id)) return false;
    claimed.delete(envelope.id); // a second delivery of the id in this batch is a duplicate
    fresh.push(envelope);
    return true;
  });
  if (fresh.length > 0) await batching.handle(fresh, tx);
  return handled;
}

function topicOf(data: z.infer<typeof pubsubDataSchema>): Topic | undefined {
  const named = data.message.attributes?.topic ?? data.subscription?.split('/').pop()?.split('--')[0];
  return named && named in topicSchemas ? (named as Topic) : undefined;
}

/** Builds the CloudEvent Pub/Sub would deliver for one envelope (used by the local bus and tests). */
export function pubsubCloudEvent(topic: Topic, envelope: unknown, messageId: string): CloudEvent<unknown> {
  return {
    specversion: '1.0',
    id: messageId,
    source: `//pubsub.googleapis.com/projects/local/topics/${topic}`,
    type: 'google.cloud.pubsub.topic.v1.messagePublished',
    time: new Date().toISOString(),
    data: {
      message: {
        data: Buffer.from(JSON.stringify(envelope)).toString('base64'),
        attributes: { topic },
        messageId,
      },
      subscription: `projects/local/subscriptions/${topic}--local`,
    },
  };
}
