import { z } from 'zod';
import { defineRoute, json } from '../../../shared/http/route.js';
import { rateLimitedResponse } from '../../../shared/http/schemas.js';
import { authenticationResponseSchema } from '../../../shared/passkeys/wire.js';
import type { Core } from '../../../shared/runtime/core.js';
import { webauthnOptions } from '../../accounts/routes/passkeys.js';
import { loginReply, loginResponse } from './password-login.js';

export const passkeyLoginOptions = defineRoute({
  method: 'POST',
  path: '/api/login/passkey/options',
  edgeThrottled: true,
  enqueues: false,
  summary:
    'Start signing in with a passkey: request options with no credential list (discoverable credentials, so no email is asked; conditional UI can offer them in the username field) and a `challengeId` naming the single-use, 5-minute challenge.',
  tags: ['login'],
  auth: { kind: 'none' },
  responses: {
    200: {
      description: 'The challenge id and PublicKeyCredentialRequestOptionsJSON',
      schema: z.object({ challengeId: z.string(), options: webauthnOptions }),
    },
  },
  handler: async ({ now }, deps: Core) =>
    json(200, await deps.passkeys.assertionOptions({ purpose: 'login' }, now)),
});

export const passkeyLogin = defineRoute({
  method: 'POST',
  path: '/api/login/passkey/verify',
  edgeThrottled: true,
  summary:
    'Sign in with a passkey: the assertion for `challengeId`. A passkey with user verification is both factors (never MFA_REQUIRED); otherwise every login rule applies (per-IP limit shared with POST /api/login, verified email, disabled accounts, new-device notice). Audited as login.succeeded with method passkey.',
  tags: ['login'],
  auth: { kind: 'none' },
  body: z.strictObject({ challengeId: z.uuid(), response: authenticationResponseSchema }),
  responses: {
    200: { description: 'Signed in; the session cookie is set (as POST /api/login)', schema: loginResponse },
    401: {
      description:
        'INVALID_CREDENTIALS: an unknown, used, expired challenge; an unregistered passkey; a wrong origin or RP ID; no user verification; a bad signature or a counter that went backwards',
    },
    403: { description: 'EMAIL_NOT_VERIFIED' },
    429: rateLimitedResponse(
      'more than 10 sign-in attempts from one client address (IPv6: its /64) in 15 minutes',
    ),
  },
  handler: async ({ body, ip, userAgent, now }, deps: Core) => {
    const result = await deps.login.passkeyLogin(body, { ip, userAgent, now });
    return result.ok ? loginReply(result, now) : result;
  },
});
