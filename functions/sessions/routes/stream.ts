import { requireSession } from '../../../shared/http/principal.js';
import { defineRoute } from '../../../shared/http/route.js';
import { pollingStream } from '../../../shared/http/sse.js';
import type { Core } from '../../../shared/runtime/core.js';
import { revocationStreamKey } from '../../../shared/sessions/model.js';

/** How often an open stream checks the feed: the bound on how late a revocation reaches it. */
export const STREAM_POLL_MS = 1000;
/** A comment line this often keeps proxies from closing an idle stream. */
const KEEPALIVE_POLLS = 15;

export const revocationStream = defineRoute({
  method: 'GET',
  path: '/api/sessions/stream',
  summary:
    'Server-sent events for this session (embedded mode; deployed clients watch their Firestore revocation doc). Sends `ready`, then `revoked` or `expired` and closes; a revocation arrives within about one second of its event being delivered.',
  tags: ['sessions'],
  auth: { kind: 'session', boundSessions: true, whileHeld: true },
  responses: { 200: { description: 'text/event-stream' } },
  handler: async ({ principal, req }, deps: Core) => {
    const { session } = requireSession(principal);
    const streamKey = revocationStreamKey(session.token_hash);
    const clock = deps.platform.clock;
    return pollingStream(req, {
      ready: { sessionId: session.id },
      intervalMs: STREAM_POLL_MS,
      keepAlivePolls: KEEPALIVE_POLLS,
      poll: async () => {
        const revoked = await deps.revocationFeed.lookup(streamKey);
        if (revoked)
          return {
            end: 'revoked',
            data: { reason: revoked.reason, revokedAt: revoked.revokedAt.toISOString() },
          };
        if (clock.now().getTime() >= session.expires_at.getTime()) return { end: 'expired', data: {} };
        return undefined;
      },
      onError: (error) => {
        deps.platform.metrics.increment('revocation_feed_errors');
        deps.platform.logger.error('revocation feed unavailable; closing the stream', { error });
      },
    });
  },
});
