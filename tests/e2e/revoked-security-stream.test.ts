import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { newUser, nextIp, orgTestEnv } from '../helpers/orgs.js';

/**
 * A stolen session watching the account's security events: the owner resets the password (every
 * session ends) and signs in again. The thief's open stream must not carry the reset, nor the
 * owner's new sign-in (address, device, place), and must end: a revoked token reads nothing more.
 */
let app: TestApp;

beforeAll(async () => {
  app = await startTestApp({ env: orgTestEnv });
});
afterAll(async () => {
  await app?.stop();
});

/** Collects what a stream sends in the background; `closed` resolves when it ends. */
function collect(body: ReadableStream<Uint8Array>) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const seen = { text: '' };
  const closed = (async () => {
    for (;;) {
      const chunk = await reader.read().catch(() => ({ done: true as const, value: undefined }));
      if (chunk.done) return;
      seen.text += decoder.decode(chunk.value);
    }
  })();
  return { seen, closed, cancel: () => reader.cancel().catch(() => {}) };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("a revoked session's security event stream", () => {
  it('sends nothing after the revocation, not the reset nor the new sign-in, and ends', async () => {
    const victim = await newUser(app, 'stream-victim');
    const stolen = await fetch(`${app.url}/api/accounts/security-events/stream`, {
      headers: { authorization: `Bearer ${victim.token}` },
    });
    expect(stolen.status).toBe(200);
    const stream = collect(stolen.body as ReadableStream<Uint8Array>);
    await pause(500);
    expect(stream.seen.text).toContain('event: ready');
    const before = stream.seen.text.length;

    const requested = await app.request('POST', '/api/accounts/password-reset/request', {
      body: { email: victim.email },
      headers: { 'x-forwarded-for': nextIp() },
    });
    expect(requested.status).toBe(202);
    await app.settle();
    const newPassword = 'the owner took it back 2026';
    const confirmed = await app.request('POST', '/api/accounts/password-reset/confirm', {
      body: { token: app.tokenFromMail(victim.email, 'password-reset'), newPassword },
      headers: { 'x-forwarded-for': nextIp() },
    });
    expect(confirmed.status, confirmed.text).toBe(200);
    const back = await app.request('POST', '/api/login', {
      body: { email: victim.email, password: newPassword },
      headers: { 'x-forwarded-for': nextIp(), 'user-agent': 'owner-laptop/2.0' },
    });
    expect(back.status, back.text).toBe(200);
    await app.settle();

    // Well within the 10 s between the stream's routine session checks.
    await Promise.race([stream.closed, pause(3000)]);
    await stream.cancel();
    const after = stream.seen.text.slice(before);
    expect(after).not.toContain('event: security-event');
    expect(after).not.toContain('owner-laptop');
    expect(after).toContain('event: ended');
  });
});
