import { PassThrough } from 'node:stream';
import { requireSession } from '../../../shared/http/principal.js';
import { defineRoute } from '../../../shared/http/route.js';
import type { Core } from '../../../shared/runtime/core.js';
import { revocationStreamKey } from '../../../shared/sessions/model.js';

/** How often an open stream checks the feed: the bound on how late a revocation reaches it. */
export const STREAM_POLL_MS = 1000;
/** A comment line this often keeps proxies from closing an idle stream. */
const KEEPALIVE_POLLS = 15;

function event(name: string, data: unknown): string {
  return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}

export const revocationStream = defineRoute({
  method: 'GET',
  path: '/api/sessions/stream',
  summary:
    'Server-sent events for this session (embedded mode; deployed clients watch their Firestore revocation doc). Sends `ready`, then `revoked` or `expired` and closes; a revocation arrives within about one second of its event being delivered.',
  tags: ['sessions'],
  auth: { kind: 'session', boundSessions: true },
  responses: { 200: { description: 'text/event-stream' } },
  handler: async ({ principal, req }, deps: Core) => {
    const { session } = requireSession(principal);
    const streamKey = revocationStreamKey(session.token_hash);
    const clock = deps.platform.clock;
    const stream = new PassThrough();
    let polls = 0;
    let checking = false;

    const stop = () => clearInterval(timer);
    const finish = (name: string, data: unknown) => {
      stop();
      stream.end(event(name, data));
    };
    const timer = setInterval(async () => {
      if (checking) return;
      checking = true;
      try {
        const revoked = await deps.revocationFeed.lookup(streamKey);
        if (revoked)
          return finish('revoked', { reason: revoked.reason, revokedAt: revoked.revokedAt.toISOString() });
        if (clock.now().getTime() >= session.expires_at.getTime()) return finish('expired', {});
        if (++polls % KEEPALIVE_POLLS === 0) stream.write(': keep-alive\n\n');
      } catch (error) {
        deps.platform.metrics.increment('revocation_feed_errors');
        deps.platform.logger.error('revocation feed unavailable; closing the stream', { error });
        finish('error', {});
      } finally {
        checking = false;
      }
    }, STREAM_POLL_MS);
    req.on('close', stop);
    stream.write(event('ready', { sessionId: session.id }));
    return {
      status: 200,
      headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store' },
      raw: stream,
    };
  },
});
