import type { AddressInfo } from 'node:net';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeEnvelope } from '../../shared/bus/envelope.js';
import { queueMail } from '../../shared/mail/queue.js';
import { renderMail } from '../../shared/mail/templates.js';
import { startTestApp, type TestApp } from '../helpers/app.js';

/**
 * Consumers as Pub/Sub push subscriptions reach them in production: an HTTP POST of the push
 * body to the function, through the Functions Framework's own server (which turns it into the
 * CloudEvent our handler receives).
 */
let app: TestApp;
let pushUrl: string;
let close: () => Promise<void>;

beforeAll(async () => {
  app = await startTestApp();
  const server = getTestServer('notify');
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  pushUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/projects/p/topics/mail-outbox`;
  close = () => new Promise((resolve) => server.close(() => resolve()));
});
afterAll(async () => {
  await close?.();
  await app?.stop();
});

function pushBody(envelope: unknown, messageId: string, topic = 'mail-outbox') {
  return {
    message: {
      data: Buffer.from(JSON.stringify(envelope)).toString('base64'),
      attributes: { topic },
      messageId,
      publishTime: new Date().toISOString(),
    },
    subscription: `projects/p/subscriptions/${topic}--notify`,
  };
}

async function sealedMailEnvelope(to: string) {
  const p = app.runtime.platform;
  let envelope: unknown;
  await p.db.transaction().execute(async (tx) => {
    await queueMail(
      tx,
      await p.mailKeys(),
      renderMail(p.config.appUrl, { type: 'password-reset', to, token: 'T'.repeat(43) }),
      new Date(),
    );
    const row = await tx
      .selectFrom('outbox')
      .select('envelope')
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirstOrThrow();
    envelope = row.envelope;
    await tx.deleteFrom('outbox').execute();
  });
  return envelope;
}

const post = (body: unknown) =>
  fetch(pushUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

describe('notify as a Pub/Sub push endpoint', () => {
  it('sends the sealed mail of a pushed message, once even when the message is pushed twice', async () => {
    const envelope = await sealedMailEnvelope('pushed@example.com');
    expect((await post(pushBody(envelope, 'm-1'))).status).toBeLessThan(300);
    expect((await post(pushBody(envelope, 'm-2'))).status).toBeLessThan(300);
    const mails = app.mails().filter((m) => m.to === 'pushed@example.com');
    expect(mails).toHaveLength(1);
    expect(mails[0]?.action.type).toBe('password-reset');
  });

  it('acknowledges and drops messages that can never be handled, so they are not redelivered forever', async () => {
    const bogus = makeEnvelope('mail-outbox', { sealed: 'm1.not-really-sealed' }, new Date());
    expect((await post(pushBody(bogus, 'm-3'))).status).toBeLessThan(300);
    expect((await post(pushBody({ not: 'an envelope' }, 'm-4'))).status).toBeLessThan(300);
    expect(app.mails().filter((m) => m.to === 'nobody@example.com')).toHaveLength(0);
  });
});
