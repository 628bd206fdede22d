import { z } from 'zod';
import { requireSession } from '../../../shared/http/principal.js';
import { defineRoute, json } from '../../../shared/http/route.js';
import { sessionView, toSessionView, userView } from '../../../shared/http/views.js';
import type { Core } from '../../../shared/runtime/core.js';

/**
 * How a held session can lift its hold: `code` (the account has an authenticator app),
 * `passkey` (it has passkeys), `link` (no authenticator app: the sign-in mailed a
 * "Was this you?" link). The password is never one: whoever signed in there knew it.
 */
export const currentSessionHold = z.object({
  reason: z.enum(['impossible_travel']),
  methods: z.array(z.enum(['code', 'passkey', 'link'])),
});

export const currentSession = defineRoute({
  method: 'GET',
  path: '/api/sessions/current',
  summary:
    'The session this request is made with, and its user. A held session (impossible travel) also gets `hold`: the reason and the ways to lift it. A revoked or expired token answers 401.',
  tags: ['sessions'],
  auth: { kind: 'session', boundSessions: true, whileHeld: true },
  responses: {
    200: {
      description: 'The current session',
      schema: z.object({ session: sessionView, user: userView, hold: currentSessionHold.nullable() }),
    },
  },
  handler: async ({ principal }, deps: Core) => {
    const { session, user } = requireSession(principal);
    let hold: z.infer<typeof currentSessionHold> | null = null;
    // Asked only for a held session, so the everyday check costs nothing more.
    if (session.step_up_reason) {
      const [code, passkeys] = await Promise.all([deps.mfa.isEnrolled(user.id), deps.passkeys.list(user.id)]);
      const methods: z.infer<typeof currentSessionHold>['methods'] = [];
      if (code) methods.push('code');
      if (passkeys.length > 0) methods.push('passkey');
      if (!code) methods.push('link');
      hold = { reason: session.step_up_reason, methods };
    }
    return json(200, {
      session: toSessionView(session),
      user: { id: user.id, email: user.email, name: user.name },
      hold,
    });
  },
});
