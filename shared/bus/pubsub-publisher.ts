import type { PubSub } from '@google-cloud/pubsub';
import type { Envelope } from './envelope.js';
import type { Publisher } from './outbox.js';
import type { Topic } from './topics.js';

/** Production publisher: one message per envelope, the topic name in an attribute for routing. */
export class PubSubPublisher implements Publisher {
  constructor(private readonly pubsub: PubSub) {}

  async publish(topic: Topic, envelope: Envelope): Promise<void> {
    await this.pubsub.topic(topic).publishMessage({
      data: Buffer.from(JSON.stringify(envelope)),
      attributes: { topic, eventId: envelope.id },
    });
  }
}
