import type { CloudEvent } from '@google-cloud/functions-framework';
import type { Logger } from '../log/logger.js';
import { pubsubCloudEvent } from './consumer.js';
import type { Envelope } from './envelope.js';
import type { Publisher } from './outbox.js';
import { runAsUnit } from './publishers.js';
import { subscriptions, type Topic } from './topics.js';

export type CloudEventHandler = (event: CloudEvent<unknown>) => unknown;

/**
 * The in-process stand-in for Pub/Sub push subscriptions. `publish` only queues (as Pub/Sub
 * accepts a message and returns), delivery happens afterwards to the unit subscribed to the
 * topic; a handler that throws is retried with backoff, up to `maxAttempts`, then dead-lettered.
 */
export class LocalBus implements Publisher {
  #pending = 0;
  #idleWaiters: Array<() => void> = [];
  #sequence = 0;
  readonly deadLetters: Array<{ topic: Topic; envelope: Envelope; error: unknown }> = [];

  constructor(
    private readonly resolve: (unit: string) => CloudEventHandler | undefined,
    private readonly logger: Logger,
    private readonly options: { maxAttempts: number; retryDelayMs: number } = {
      maxAttempts: 5,
      retryDelayMs: 200,
    },
  ) {}

  async publish(topic: Topic, envelope: Envelope): Promise<void> {
    for (const { unit } of subscriptions.filter((s) => s.topic === topic)) {
      // A unit that is not loaded has no subscription here, as in a project where it is not deployed.
      if (!this.resolve(unit)) continue;
      this.#pending++;
      const messageId = String(++this.#sequence);
      setImmediate(() => void this.#deliver(unit, topic, envelope, messageId, 1));
    }
  }

  /** Resolves once every queued delivery (and its retries) has finished. */
  idle(): Promise<void> {
    if (this.#pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  async #deliver(
    unit: string,
    topic: Topic,
    envelope: Envelope,
    messageId: string,
    attempt: number,
  ): Promise<void> {
    const handler = this.resolve(unit);
    try {
      if (!handler) throw new Error(`the consumer unit ${unit} is no longer registered`);
      await runAsUnit(unit, () => handler(pubsubCloudEvent(topic, envelope, messageId)));
    } catch (error) {
      if (attempt < this.options.maxAttempts) {
        setTimeout(
          () => void this.#deliver(unit, topic, envelope, messageId, attempt + 1),
          this.options.retryDelayMs * attempt,
        );
        return;
      }
      this.deadLetters.push({ topic, envelope, error });
      this.logger.error('message dead-lettered', { topic, unit, eventId: envelope.id, error });
    }
    this.#settle();
  }

  #settle(): void {
    this.#pending--;
    if (this.#pending === 0) for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }
}
