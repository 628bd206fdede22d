import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { PubSub } from '@google-cloud/pubsub';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeEnvelope } from './envelope.js';
import { PubSubPublisher } from './pubsub-publisher.js';

/**
 * The production Pub/Sub client against a local gRPC server implementing the documented
 * google.pubsub.v1.Publisher/Publish RPC from the client's own proto files.
 */
const require = createRequire(import.meta.url);
const protos = join(dirname(require.resolve('@google-cloud/pubsub/package.json')), 'build', 'protos');
const gaxProtos = join(protos, '..', '..', '..', '..', 'google-gax', 'build', 'protos');

interface PublishedMessage {
  data: Buffer;
  attributes: Record<string, string>;
}
const received: Array<{ topic: string; messages: PublishedMessage[] }> = [];
let server: grpc.Server;
let port = 0;

beforeAll(async () => {
  const definition = protoLoader.loadSync(join(protos, 'google/pubsub/v1/pubsub.proto'), {
    includeDirs: [protos, gaxProtos],
    keepCase: false,
    longs: String,
    defaults: true,
  });
  const pkg = grpc.loadPackageDefinition(definition) as any;
  server = new grpc.Server();
  let id = 0;
  server.addService(pkg.google.pubsub.v1.Publisher.service, {
    publish: (call: any, callback: any) => {
      received.push({ topic: call.request.topic, messages: call.request.messages });
      callback(null, { messageIds: call.request.messages.map(() => String(++id)) });
    },
  });
  port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
});
afterAll(() => server?.forceShutdown());

describe('PubSubPublisher', () => {
  it('publishes each envelope as JSON to its topic with the topic and event id as attributes', async () => {
    const pubsub = new PubSub({
      projectId: 'sf-test',
      apiEndpoint: `127.0.0.1:${port}`,
      emulatorMode: true,
    } as any);
    const publisher = new PubSubPublisher(pubsub);
    const envelope = makeEnvelope(
      'recording-stopped',
      { recordingId: 'r1' },
      new Date('2026-01-01T00:00:00Z'),
      'org-1',
    );
    await publisher.publish('recording-stopped', envelope);
    await pubsub.close();

    expect(received).toHaveLength(1);
    expect(received[0]?.topic).toBe('projects/sf-test/topics/recording-stopped');
    const message = received[0]!.messages[0]!;
    expect(JSON.parse(Buffer.from(message.data).toString('utf8'))).toEqual(envelope);
    expect(message.attributes).toEqual({ topic: 'recording-stopped', eventId: envelope.id });
  });
});
