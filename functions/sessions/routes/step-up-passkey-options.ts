import { z } from 'zod';
import { requireSession } from '../../../shared/http/principal.js';
import { defineRoute, json } from '../../../shared/http/route.js';
import type { Core } from '../../../shared/runtime/core.js';
import { webauthnOptions } from '../../accounts/routes/passkeys.js';

export const stepUpPasskeyOptions = defineRoute({
  method: 'POST',
  path: '/api/sessions/step-up/passkey/options',
  enqueues: false,
  summary:
    'Start a passkey step-up: request options listing your passkeys and a `challengeId` bound to this session (single use, 5 minutes); answer at POST /api/sessions/step-up with `{challengeId, passkey}`.',
  tags: ['sessions'],
  auth: { kind: 'session', boundSessions: true, whileHeld: true },
  responses: {
    200: {
      description: 'The challenge id and PublicKeyCredentialRequestOptionsJSON',
      schema: z.object({ challengeId: z.string(), options: webauthnOptions }),
    },
  },
  handler: async ({ principal, now }, deps: Core) => {
    const { session } = requireSession(principal);
    return json(
      200,
      await deps.passkeys.assertionOptions(
        { purpose: 'step_up', sessionId: session.id, userId: session.user_id },
        now,
      ),
    );
  },
});
