import { z } from 'zod';
import type { LoginSuccess } from '../../../shared/accounts/login.js';
import { sessionCookie } from '../../../shared/http/cookies.js';
import { defineRoute, json, type Reply } from '../../../shared/http/route.js';
import { emailField, passwordField, rateLimitedResponse } from '../../../shared/http/schemas.js';
import { userView } from '../../../shared/http/views.js';
import type { Core } from '../../../shared/runtime/core.js';

export const loginResponse = z.object({
  token: z.string(),
  session: z.object({
    id: z.string(),
    expiresAt: z.string(),
    idleExpiresAt: z.string(),
    /** 'impossible_travel': this session must step up (or be confirmed by mail) before it may act. */
    stepUpReason: z.enum(['impossible_travel']).nullable(),
  }),
  user: userView,
});

/** The answer of every successful login: the token once in the body, and the session cookie. */
export function loginReply(success: LoginSuccess, now: Date): Reply {
  return json(
    200,
    {
      token: success.token,
      session: {
        id: success.session.id,
        expiresAt: success.session.expiresAt.toISOString(),
        idleExpiresAt: success.session.idleExpiresAt.toISOString(),
        stepUpReason: success.session.stepUpReason,
      },
      user: success.user,
    },
    { 'set-cookie': sessionCookie(success.token, success.session.expiresAt, now) },
  );
}

export const passwordLogin = defineRoute({
  method: 'POST',
  path: '/api/login',
  edgeThrottled: true,
  summary: 'Sign in with email and password. 10 attempts per client IP per 15 minutes.',
  tags: ['login'],
  auth: { kind: 'none' },
  body: z.strictObject({ email: emailField, password: passwordField }),
  responses: {
    200: { description: 'Signed in; the session cookie is set', schema: loginResponse },
    401: {
      description:
        'INVALID_CREDENTIALS; or MFA_REQUIRED with `mfaToken` in the error object: continue at POST /api/login/mfa',
    },
    429: rateLimitedResponse(
      'more than 10 attempts from one client address (IPv6: its /64), or 100 failures on one account, in 15 minutes',
    ),
  },
  handler: async ({ body, ip, userAgent, now }, deps: Core) => {
    const result = await deps.login.passwordLogin(body, { ip, userAgent, now });
    return result.ok ? loginReply(result, now) : result;
  },
});
