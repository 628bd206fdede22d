import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Envelope } from '../../shared/bus/envelope.js';
import type { Topic } from '../../shared/bus/topics.js';
import { helperClient, startTestApp, type TestApp } from '../helpers/app.js';
import { type FaultyDatabase, openFaultyDatabase } from '../helpers/db-faults.js';

/**
 * Pub/Sub refusing publishes: the events wait in the outbox (in the same transaction as their
 * change, so they cannot be lost) and leave once the bus is back; a publish that went out but
 * whose outbox row could not be deleted is published again, and the consumer applies it once.
 */
describe('Pub/Sub publish failing', () => {
  let faulty: FaultyDatabase;
  let app: TestApp;
  let failing = false;
  const published: string[] = [];

  beforeAll(async () => {
    faulty = await openFaultyDatabase();
    app = await startTestApp({ database: faulty.handle });
    const bus = app.runtime.platform.localBus!;
    const deliver = bus.publish.bind(bus);
    // The relay's publisher is the bus itself: a publish refused here is Pub/Sub saying no.
    bus.publish = async (topic: Topic, envelope: Envelope) => {
      if (failing) throw Object.assign(new Error('14 UNAVAILABLE: No connection established'), { code: 14 });
      published.push(envelope.id);
      return deliver(topic, envelope);
    };
  });
  afterAll(async () => {
    faulty.restore();
    await app?.stop();
    await faulty?.close();
  });

  async function outboxRows() {
    return app.runtime.platform.db.selectFrom('outbox').select(['event_id', 'attempts']).execute();
  }

  /** Drains until the outbox is empty and the bus idle, waiting out the relay's retry backoff. */
  async function drainFully(timeoutMs = 15_000) {
    const p = app.runtime.platform;
    const until = Date.now() + timeoutMs;
    for (;;) {
      await p.relay.drain().catch(() => 0);
      await p.localBus?.idle();
      if ((await outboxRows()).length === 0) return;
      if (Date.now() > until) throw new Error('the outbox did not drain');
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  const mailsTo = (email: string) =>
    app.mails().filter((m) => m.to === email && m.action.type === 'verify-email');

  it('events stay in the outbox while publishing fails and each goes out once when it recovers', async () => {
    failing = true;
    const emails = Array.from({ length: 5 }, (_, i) => `outbox${i}-${Date.now()}@example.com`);
    for (const email of emails) {
      const signup = await app.request('POST', '/api/accounts/signup', {
        body: { email, password: 'a long enough passphrase 42', name: 'Outbox' },
        headers: helperClient(),
      });
      // The change committed; only its publication waits.
      expect(signup.status, signup.text).toBe(202);
    }
    await app.runtime.platform.relay.drain();
    const waiting = await outboxRows();
    expect(waiting.length).toBeGreaterThanOrEqual(emails.length);
    expect(waiting.every((row) => row.attempts >= 1)).toBe(true);
    for (const email of emails) expect(mailsTo(email)).toHaveLength(0);
    expect(app.runtime.platform.metrics.value('outbox_publish_errors')).toBeGreaterThan(0);

    failing = false;
    await drainFully();
    for (const email of emails) expect(mailsTo(email)).toHaveLength(1);
    expect(new Set(published).size).toBe(published.length);
  });

  it('a publish whose outbox row could not be deleted goes out again and the consumer applies it once', async () => {
    const email = `twice-${Date.now()}@example.com`;
    // The row's delete (after the bus accepted it) never reaches the database: the relay's
    // transaction dies, the row stays, and the same event is published a second time.
    const cut = faulty.cutOn(/delete from "?outbox/i);
    const signup = await app.request('POST', '/api/accounts/signup', {
      body: { email, password: 'a long enough passphrase 42', name: 'Twice' },
      headers: helperClient(),
    });
    expect(signup.status, signup.text).toBe(202);
    await cut;
    await app.runtime.platform.localBus?.idle();
    faulty.restore();
    await drainFully();

    const mail = mailsTo(email);
    expect(mail).toHaveLength(1);
    const repeated = published.filter((id, i) => published.indexOf(id) !== i);
    expect(repeated.length).toBeGreaterThan(0);
  });
});
