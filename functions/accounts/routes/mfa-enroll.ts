import { z } from 'zod';
import { requireSession } from '../../../shared/http/principal.js';
import { defineRoute, json } from '../../../shared/http/route.js';
import type { Core } from '../../../shared/runtime/core.js';

export const mfaEnroll = defineRoute({
  method: 'POST',
  path: '/api/mfa/totp/enroll',
  summary:
    'Start TOTP enrolment: a new secret and its otpauth:// URL for an authenticator app. MFA turns on only at /api/mfa/totp/confirm; enrolling again before that replaces the secret. Needs a step-up (the password, as the account has no MFA yet): whoever holds a session must not add their own authenticator to the account. 409 while MFA is on.',
  tags: ['mfa'],
  auth: { kind: 'session', stepUp: true },
  responses: {
    200: {
      description: 'The secret (base32) and the otpauth:// URL to show as a QR code',
      schema: z.object({ secret: z.string(), otpauthUrl: z.string() }),
    },
    403: { description: 'STEP_UP_REQUIRED: step up with the password first' },
    409: { description: 'MFA is already on (CONFLICT)' },
  },
  handler: async ({ principal, now }, deps: Core) => {
    const { user } = requireSession(principal);
    const result = await deps.mfa.enroll(user, now);
    return result.ok ? json(200, { secret: result.secret, otpauthUrl: result.otpauthUrl }) : result;
  },
});
