import { requireSession } from '../../../shared/http/principal.js';
import { defineRoute } from '../../../shared/http/route.js';
import { pollingStream } from '../../../shared/http/sse.js';
import type { Core } from '../../../shared/runtime/core.js';
import { stateOf } from '../../../shared/sessions/service.js';

/**
 * How often an open stream reads the user's audit chain for new events. The chain lives in the
 * one PostgreSQL every instance shares, so an event appended through any instance reaches every
 * stream within this bound plus a query: under the one second the product promises.
 */
export const SECURITY_STREAM_POLL_MS = 400;
/** Every this many polls: a comment line for proxies, and a check that the session still stands. */
const KEEPALIVE_POLLS = 25;

export const securityEventStream = defineRoute({
  method: 'GET',
  path: '/api/accounts/security-events/stream',
  summary:
    "Server-sent events: `ready`, then one `security-event` (the list's shape) for each new event of the account that is not about this very session, within about a second; `ended` when this session is revoked or expires.",
  tags: ['accounts'],
  auth: { kind: 'session' },
  responses: { 200: { description: 'text/event-stream' } },
  handler: async ({ principal, req }, deps: Core) => {
    const { session, user } = requireSession(principal);
    const log = deps.securityEvents;
    let cursor = await log.cursor(user.id);
    return pollingStream(req, {
      ready: { sessionId: session.id },
      intervalMs: SECURITY_STREAM_POLL_MS,
      keepAlivePolls: KEEPALIVE_POLLS,
      poll: async (send, polls) => {
        const next = await log.since(user.id, cursor);
        cursor = next.cursor;
        const events = next.events.filter((event) => event.sessionId !== session.id);
        // The session is checked before anything is sent (a revoked token reads nothing more: the
        // reset that revoked it, the owner's next sign-in), and otherwise every keep-alive.
        if (events.length === 0 && polls % KEEPALIVE_POLLS !== 0) return undefined;
        const found = await deps.sessionStore.findByTokenHash(session.token_hash);
        const state = found ? stateOf(found.session, deps.platform.clock.now()) : 'revoked';
        if (state !== 'active') return { end: 'ended', data: { reason: state } };
        for (const event of events) send('security-event', event);
        return undefined;
      },
      onError: (error) => deps.platform.logger.error('security event stream failed; closing it', { error }),
    });
  },
});
