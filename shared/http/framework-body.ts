import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { Failure } from '../errors/codes.js';
import { compressedBody, PLATFORM_BODY_LIMIT_BYTES, tooLarge } from './body.js';
import { errorPayload, sendJson } from './errors.js';
import { applySecurityHeaders } from './headers.js';

/**
 * Deployed, a unit runs inside the Functions Framework, whose Express server parses every request
 * body before the function sees it (body-parser, up to 1 GiB): it inflates gzip and deflate bodies
 * (a small gzip bomb became hundreds of MB of memory before our 415), answers malformed JSON with
 * Express's HTML error page instead of our JSON error, and reads a whole upload before our router
 * has looked at who sends it. HTTP units call this before the framework builds its server:
 *
 * - On a server built for an HTTP function, the parsers read nothing. The request reaches our
 *   router unread, which authenticates first and then reads the body itself (per-route limits,
 *   compressed bodies refused, its own error shape), exactly as in the local runtime.
 * - On a server built for a CloudEvent function (Pub/Sub push), the parsers only buffer the raw
 *   bytes, never inflate, and stop at Cloud Run's own request cap; JSON is still parsed for the
 *   framework's CloudEvent conversion.
 */
export const FRAMEWORK_BODY_LIMIT_BYTES = PLATFORM_BODY_LIMIT_BYTES;

type Middleware = (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void;
type ParserOptions = { type?: unknown; verify?: unknown } & Record<string, unknown>;
type ParserFactory = (options?: ParserOptions) => Middleware;
interface BodyParserModule {
  json: ParserFactory;
  raw: ParserFactory;
  text: ParserFactory;
  urlencoded: ParserFactory;
}

interface ServerModule {
  getServer: (userFunction: unknown, options: { signatureType?: string }) => unknown;
}

const GUARDED = Symbol.for('sessionforge.frameworkBodyGuarded');

/**
 * True while the framework builds a server for an HTTP function. `getServer` creates its parsers
 * synchronously, so the parsers made meanwhile are that server's.
 */
let buildingHttpServer = false;
const leaveUnread: Middleware = (_req, _res, next) => next();

/** body-parser's errors carry a `type`; the two a client can cause map to our codes. */
function refusal(error: unknown): Failure | null {
  switch ((error as { type?: string }).type) {
    case 'encoding.unsupported':
      return compressedBody();
    case 'entity.too.large':
      return tooLarge(FRAMEWORK_BODY_LIMIT_BYTES);
    default:
      return null;
  }
}

/** Idempotent; a no-op where the framework (or its body-parser) cannot be found. */
export function guardFrameworkBodyParsers(): void {
  let parsers: BodyParserModule & { [GUARDED]?: true };
  let server: ServerModule;
  try {
    const here = createRequire(import.meta.url);
    const framework = createRequire(here.resolve('@google-cloud/functions-framework'));
    parsers = framework('body-parser') as typeof parsers;
    server = framework('./server.js') as ServerModule;
  } catch {
    return;
  }
  if (parsers[GUARDED]) return;
  // main.js and testing.js call `server_1.getServer(…)`, a property read at call time.
  const getServer = server.getServer;
  server.getServer = (userFunction, options) => {
    buildingHttpServer = options.signatureType === 'http';
    try {
      return getServer(userFunction, options);
    } finally {
      buildingHttpServer = false;
    }
  };
  const raw = parsers.raw;
  const rawOnly =
    (defaultType: string): ParserFactory =>
    (options = {}) => {
      if (buildingHttpServer) return leaveUnread;
      const read = raw({
        type: options.type ?? defaultType,
        verify: options.verify,
        limit: FRAMEWORK_BODY_LIMIT_BYTES,
        inflate: false,
      });
      // What the parser refuses is answered in our error shape, not Express's HTML page.
      return (req, res, next) =>
        read(req, res, (error) => {
          const refused = error ? refusal(error) : null;
          if (!refused) return next(error);
          req.resume();
          const { status, body, headers } = errorPayload(refused);
          applySecurityHeaders(res);
          sendJson(res, status, body, { ...headers, connection: 'close' });
        });
    };
  const rawJson = rawOnly('application/json');
  parsers.json = (options) => {
    if (buildingHttpServer) return leaveUnread;
    const read = rawJson(options);
    return (req, res, next) =>
      read(req, res, (error) => {
        if (error) return next(error);
        const withBody = req as IncomingMessage & { body?: unknown };
        if (Buffer.isBuffer(withBody.body)) {
          try {
            withBody.body = withBody.body.length > 0 ? JSON.parse(withBody.body.toString('utf8')) : {};
          } catch {
            withBody.body = {};
          }
        }
        next();
      });
  };
  parsers.text = rawOnly('text/plain');
  parsers.urlencoded = rawOnly('application/x-www-form-urlencoded');
  parsers.raw = rawOnly('application/octet-stream');
  parsers[GUARDED] = true;
}
