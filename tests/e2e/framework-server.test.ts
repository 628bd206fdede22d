import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeEnvelope } from '../../shared/bus/envelope.js';
import { FRAMEWORK_BODY_LIMIT_BYTES } from '../../shared/http/framework-body.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { ASCIINEMA_UPLOAD_PATH, multipartBody, v2Cast } from '../helpers/asciinema.js';
import { issueApiKey } from '../helpers/keys.js';
import { createOrg, newUser } from '../helpers/orgs.js';
import { offerBody } from '../helpers/raw-request.js';

const MiB = 1024 * 1024;
const multipart = { 'content-type': 'multipart/form-data; boundary=sfBoundary7MA4YWxkTrZu0gW' };

/**
 * Requests as a deployed function receives them: through the Functions Framework's own Express
 * server, whose body parsers run before our router (shared/http/framework-body.ts).
 */
let app: TestApp;
let base: string;
let pushUrl: string;
let recordingsBase: string;
const closers: Array<() => Promise<void>> = [];

async function listen(unit: string): Promise<string> {
  const server = getTestServer(unit);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  app = await startTestApp();
  base = await listen('accounts');
  pushUrl = `${await listen('audit-consumer')}/`;
  recordingsBase = await listen('recordings');
});
afterAll(async () => {
  for (const close of closers) await close();
  await app?.stop();
});

const signup = (body: BodyInit, headers: Record<string, string>) =>
  fetch(`${base}/api/accounts/signup`, { method: 'POST', body, headers });

describe('HTTP units behind the Functions Framework server', () => {
  it('answer malformed JSON with our 400 VALIDATION_FAILED, not the framework’s HTML page', async () => {
    const res = await signup('{"email":', { 'content-type': 'application/json' });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect((await res.json()).error.code).toBe('VALIDATION_FAILED');
  });

  it('answer a known path asked with another method with 405 METHOD_NOT_ALLOWED and Allow, as locally', async () => {
    const res = await fetch(`${base}/api/accounts/signup`, { method: 'PUT', body: '{}' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
    expect((await res.json()).error.code).toBe('METHOD_NOT_ALLOWED');
  });

  it('refuse a gzip bomb with 415 without inflating it', async () => {
    const bomb = gzipSync(Buffer.alloc(128 * 1024 * 1024, 32)); // 128 MiB of spaces, ~125 KiB on the wire
    const before = process.memoryUsage().rss;
    const res = await signup(bomb, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    const grewMiB = (process.memoryUsage().rss - before) / (1024 * 1024);
    expect(res.status).toBe(415);
    expect((await res.json()).error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(grewMiB).toBeLessThan(64);
  });

  it('refuse a body larger than Cloud Run accepts, in our error shape', async () => {
    const res = await signup(Buffer.alloc(FRAMEWORK_BODY_LIMIT_BYTES + 1, 32), {
      'content-type': 'application/json',
    });
    expect(res.status).toBe(413);
    expect((await res.json()).error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('still apply the route’s own limit (1 MiB) and serve a valid request', async () => {
    const big = await signup(JSON.stringify({ email: 'x'.repeat(2 * 1024 * 1024) }), {
      'content-type': 'application/json',
    });
    expect(big.status).toBe(413);
    const ok = await signup(
      JSON.stringify({
        email: `ff-${Date.now()}@example.com`,
        password: 'a long enough passphrase 42',
        name: 'Framework Path',
      }),
      { 'content-type': 'application/json' },
    );
    expect(ok.status).toBe(202);
  });

  it('authenticate before the body: an unauthenticated 400 MiB upload gets its 401 at once, unread, the connection closed', async () => {
    const answer = await offerBody(recordingsBase, ASCIINEMA_UPLOAD_PATH, multipart, 400 * MiB);
    expect(answer.status).toBe(401);
    expect(answer.text).toMatch(/install-id/);
    expect(answer.closed).toBe(true);
    expect(answer.sentBeforeAnswer).toBeLessThan(32 * MiB);
    expect(answer.rssGrowthMiB).toBeLessThan(64);

    const json = await offerBody(
      recordingsBase,
      '/api/orgs/00000000-0000-4000-8000-000000000000/recordings',
      { 'content-type': 'application/json', authorization: 'Bearer not-a-session' },
      400 * MiB,
      { chunked: true },
    );
    expect(json.status).toBe(401);
    expect(json.body.error.code).toBe('UNAUTHENTICATED');
    expect(json.closed).toBe(true);
    expect(json.sentBeforeAnswer).toBeLessThan(32 * MiB);
  });

  it('refuse an authenticated upload over the 32 MiB request cap with our 413, and store one within it', async () => {
    const owner = await newUser(app, 'framework');
    const orgId = (await createOrg(app, owner)).id;
    const key = await issueApiKey(app, orgId, 'member');
    const basic = { authorization: `Basic ${Buffer.from(`ci:${key}`).toString('base64')}` };
    const over = await offerBody(recordingsBase, ASCIINEMA_UPLOAD_PATH, { ...multipart, ...basic }, 33 * MiB);
    expect(over.status).toBe(413);
    expect(over.text).toBe('The request body is larger than 32 MiB, the most accepted.\n');
    expect(over.closed).toBe(true);

    const { body, contentType } = multipartBody('asciicast', v2Cast(['deployed']));
    const stored = await fetch(`${recordingsBase}${ASCIINEMA_UPLOAD_PATH}`, {
      method: 'POST',
      headers: { ...basic, 'content-type': contentType },
      body: new Uint8Array(body),
    });
    expect(stored.status).toBe(201);
  });

  it('leave Pub/Sub push bodies parsed for the framework’s CloudEvent conversion', async () => {
    const envelope = makeEnvelope('audit-checkpoint', {}, new Date());
    const res = await fetch(pushUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        message: {
          data: Buffer.from(JSON.stringify(envelope)).toString('base64'),
          attributes: { topic: 'audit-checkpoint' },
          messageId: `push-${Date.now()}`,
          publishTime: new Date().toISOString(),
        },
        subscription: 'projects/p/subscriptions/audit-checkpoint--audit-consumer',
      }),
    });
    expect(res.status).toBeLessThan(300);
  });
});
