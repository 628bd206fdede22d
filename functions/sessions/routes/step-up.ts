import { z } from 'zod';
import { sessionCookie } from '../../../shared/http/cookies.js';
import { requireSession } from '../../../shared/http/principal.js';
import { defineRoute, json } from '../../../shared/http/route.js';
import { mfaCodeField, passwordField } from '../../../shared/http/schemas.js';
import { sessionView, toSessionView } from '../../../shared/http/views.js';
import { authenticationResponseSchema } from '../../../shared/passkeys/wire.js';
import type { Core } from '../../../shared/runtime/core.js';

export const stepUp = defineRoute({
  method: 'POST',
  path: '/api/sessions/step-up',
  edgeThrottled: true,
  summary:
    'Confirm a TOTP or backup code (users with MFA), the password (users without), or a passkey (`{challengeId, passkey}`, after POST /api/sessions/step-up/passkey/options) for a 10-minute sudo window. An org that requires passkeys accepts only a passkey window on its step-up routes. The session is replaced by a fresh one (new token in the body and cookie; the old token stops working). Throttled like login.',
  tags: ['sessions'],
  auth: { kind: 'session', boundSessions: true, whileHeld: true },
  body: z.union([
    z.strictObject({ code: mfaCodeField }),
    z.strictObject({ password: passwordField }),
    z.strictObject({ challengeId: z.uuid(), passkey: authenticationResponseSchema }),
  ]),
  responses: {
    200: {
      description: 'Stepped up; use the new token from now on',
      schema: z.object({ sudoUntil: z.string(), token: z.string(), session: sessionView }),
    },
  },
  handler: async ({ principal, body, ip, userAgent, now }, deps: Core) => {
    const { session } = requireSession(principal);
    const meta = { ip, userAgent, now };
    const result =
      'passkey' in body
        ? await deps.stepUp.withPasskey(
            session,
            { challengeId: body.challengeId, response: body.passkey },
            meta,
          )
        : 'code' in body
          ? await deps.stepUp.withCode(session, body.code, meta)
          : await deps.stepUp.withPassword(session, body.password, meta);
    if (!result.ok) return result;
    return json(
      200,
      {
        sudoUntil: result.sudoUntil.toISOString(),
        token: result.token,
        session: toSessionView(result.session),
      },
      { 'set-cookie': sessionCookie(result.token, result.session.expires_at, now) },
    );
  },
});
