import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import type { Reply } from './route.js';

/** One server-sent event: its name and JSON data. */
export function sseEvent(name: string, data: unknown): string {
  return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** What one poll of a stream decided: go on, or end the stream with a last event. */
export type PollOutcome = { end: string; data: unknown } | undefined;

/**
 * A server-sent-events reply that polls: `ready` first, then `poll` every `intervalMs` (never two
 * at once), which writes events through `send` and may end the stream. Every `keepAlivePolls`
 * polls a comment line keeps proxies from closing an idle stream. A poll that throws ends the
 * stream with `error` after `onError`. The timer stops when the client hangs up.
 */
export function pollingStream(
  req: IncomingMessage,
  options: {
    ready: unknown;
    intervalMs: number;
    keepAlivePolls: number;
    poll: (send: (name: string, data: unknown) => void, polls: number) => Promise<PollOutcome>;
    onError: (error: unknown) => void;
  },
): Reply {
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
      const outcome = await options.poll((name, data) => stream.write(sseEvent(name, data)), ++polls);
      if (outcome) return finish(outcome.end, outcome.data);
      if (polls % options.keepAlivePolls === 0) stream.write(': keep-alive\n\n');
    } catch (error) {
      options.onError(error);
      finish('error', {});
    } finally {
      checking = false;
    }
  }, options.intervalMs);
  req.on('close', stop);
  stream.write(sseEvent('ready', options.ready));
  return {
    status: 200,
    headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store' },
    raw: stream,
  };
}
