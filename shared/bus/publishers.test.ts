import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase } from '../../tests/helpers/db.js';
import type { DbHandle } from '../db/connect.js';
import { createLogger } from '../log/logger.js';
import { createMetrics } from '../log/metrics.js';
import type { Envelope } from './envelope.js';
import { enqueue, OutboxRelay } from './outbox.js';
import { relayTopics, runAsUnit, unitPublishes } from './publishers.js';
import type { Topic } from './topics.js';

let handle: DbHandle;
beforeAll(async () => {
  handle = await openTestDatabase();
});
afterAll(() => handle?.close());

const now = new Date('2026-06-01T00:00:00Z');
const logger = createLogger('silent');

describe('which unit publishes which topic', () => {
  it('a unit enqueuing to a topic that is not its own fails, and nothing is written', async () => {
    const attempt = runAsUnit('keys', () =>
      handle.db.transaction().execute((tx) => enqueue(tx, 'mail-outbox', { sealed: 'x' }, { now })),
    );
    await expect(attempt).rejects.toThrow(/unit keys publishes to mail-outbox/);
    const rows = await handle.db
      .selectFrom('outbox')
      .select('topic')
      .where('topic', '=', 'mail-outbox')
      .execute();
    expect(rows).toEqual([]);
  });

  it('a unit enqueuing to its own topics, and code outside any unit, are let through', async () => {
    await runAsUnit('recordings', () =>
      handle.db
        .transaction()
        .execute((tx) => enqueue(tx, 'recording-stopped', { recordingId: 'r1' }, { now })),
    );
    await handle.db.transaction().execute((tx) => enqueue(tx, 'allowlist-changed', { orgId: 'o1' }, { now }));
    await handle.db.deleteFrom('outbox').execute();
  });

  it('no unit publishes to audit-events: that topic is for other services', () => {
    for (const [unit, topics] of Object.entries(unitPublishes))
      expect(topics, unit).not.toContain('audit-events');
  });

  it("a deployed unit's relay drains only its own topics and leaves the others' rows", async () => {
    await handle.db.transaction().execute(async (tx) => {
      await enqueue(tx, 'recording-stopped', { recordingId: 'r2' }, { now });
      await enqueue(tx, 'mail-outbox', { sealed: 'y' }, { now });
    });
    const published: Topic[] = [];
    const publisher = {
      publish: async (topic: Topic, _envelope: Envelope) => {
        published.push(topic);
      },
    };
    const relay = (unit: string) =>
      new OutboxRelay(handle.db, publisher, logger, createMetrics(logger), relayTopics(unit));
    expect(await relay('notify').drain()).toBe(0);
    expect(await relay('recordings').drain()).toBe(1);
    expect(published).toEqual(['recording-stopped']);
    const left = await handle.db.selectFrom('outbox').select('topic').execute();
    expect(left.map((r) => r.topic)).toEqual(['mail-outbox']);
    expect(await relay('accounts').drain()).toBe(1);
    expect(published).toEqual(['recording-stopped', 'mail-outbox']);
  });
});
