import { PassThrough } from 'node:stream';
import { requireSession } from '../../../shared/http/principal.js';
import { defineRoute } from '../../../shared/http/route.js';
import { SSE_HEADERS, sseEvent } from '../../../shared/http/sse.js';
import type { Core } from '../../../shared/runtime/core.js';
import { sessionState } from '../../../shared/sessions/model.js';

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
    const clock = deps.platform.clock;
    let cursor = await log.cursor(user.id);
    const stream = new PassThrough();
    let polls = 0;
    let checking = false;

    const stop = () => clearInterval(timer);
    const finish = (name: string, data: unknown) => {
      stop();
      stream.end(sseEvent(name, data));
    };
    const timer = setInterval(async () => {
      if (checking) return;
      checking = true;
      try {
        const next = await log.since(user.id, cursor);
        cursor = next.cursor;
        for (const event of next.events) {
          if (event.sessionId !== session.id) stream.write(sseEvent('security-event', event));
        }
        if (++polls % KEEPALIVE_POLLS === 0) {
          const found = await deps.sessionStore.findByTokenHash(session.token_hash);
          const state = found
            ? sessionState(
                {
                  createdAt: found.session.created_at,
                  lastSeenAt: found.session.last_seen_at,
                  expiresAt: found.session.expires_at,
                  idleTimeoutMinutes: found.session.idle_timeout_minutes,
                  revokedAt: found.session.revoked_at,
                },
                clock.now(),
              )
            : 'revoked';
          if (state !== 'active') return finish('ended', { reason: state });
          stream.write(': keep-alive\n\n');
        }
      } catch (error) {
        deps.platform.logger.error('security event stream failed; closing it', { error });
        finish('error', {});
      } finally {
        checking = false;
      }
    }, SECURITY_STREAM_POLL_MS);
    req.on('close', stop);
    stream.write(sseEvent('ready', { sessionId: session.id }));
    return { status: 200, headers: SSE_HEADERS, raw: stream };
  },
});
