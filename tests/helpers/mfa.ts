import { generate } from 'otplib';
import type { FakeClock } from '../../shared/time/clock.js';
import type { TestApp } from './app.js';
import { nextIp, sudoToken, type TestUser } from './orgs.js';

/** The TOTP code an authenticator app shows at `at`. */
export function codeAt(secret: string, at: Date): Promise<string> {
  return generate({ secret, epoch: Math.floor(at.getTime() / 1000) });
}

/** One client: an address (needs TRUSTED_PROXY_HOPS=1) and a User-Agent. */
export function client(ip = nextIp(), userAgent = 'mfa-test/1.0'): Record<string, string> {
  return { 'x-forwarded-for': ip, 'user-agent': userAgent };
}

/**
 * Enrols and confirms TOTP for a signed-in user, then moves the clock to the next step so the
 * caller's next code is a fresh one (the confirming code's step is spent). Enrolment needs a
 * step-up: it runs in a second, stepped-up session, so `user.token` stays outside any sudo window.
 */
export async function enableMfa(app: TestApp, clock: FakeClock, user: TestUser) {
  const token = await sudoToken(app, user);
  const enrolled = await app.request('POST', '/api/mfa/totp/enroll', { token });
  if (enrolled.status !== 200) throw new Error(`enroll failed: ${enrolled.text}`);
  const secret: string = enrolled.body.secret;
  const confirmed = await app.request('POST', '/api/mfa/totp/confirm', {
    token,
    body: { code: await codeAt(secret, clock.now()) },
  });
  if (confirmed.status !== 200) throw new Error(`confirm failed: ${confirmed.text}`);
  clock.advance(30_000);
  return { secret, backupCodes: confirmed.body.backupCodes as string[] };
}

/** Step-up with a code; on success the answer carries the session's replacement token. */
export function stepUpWithCode(app: TestApp, token: string, code: string) {
  return app.request('POST', '/api/sessions/step-up', { token, body: { code } });
}

/** Password login for a user with MFA: the first step's answer (401 MFA_REQUIRED with mfaToken). */
export function passwordStep(app: TestApp, user: TestUser, headers: Record<string, string>) {
  return app.request('POST', '/api/login', { body: { email: user.email, password: user.password }, headers });
}

export function mfaStep(app: TestApp, mfaToken: string, code: string, headers: Record<string, string>) {
  return app.request('POST', '/api/login/mfa', { body: { mfaToken, code }, headers });
}
