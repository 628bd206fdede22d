import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { Failure } from '../errors/codes.js';
import { compressedBody, tooLarge } from './body.js';
import { errorPayload, sendJson } from './errors.js';
import { applySecurityHeaders } from './headers.js';

/**
 * Deployed, a unit runs inside the Functions Framework, whose Express server parses every request
 * body before the function sees it (body-parser, up to 1 GiB): it inflates gzip and deflate bodies
 * (a small gzip bomb became hundreds of MB of memory before our 415), and answers malformed JSON
 * with Express's HTML error page instead of our JSON error. Our router reads bodies itself
 * (per-route limits, compressed bodies refused, its own error shape), so HTTP units call this
 * before the framework builds its server: every framework parser then only buffers the raw bytes,
 * never inflates, and stops at Cloud Run's own request cap. JSON is still parsed for the
 * framework's CloudEvent conversion (Pub/Sub push), but a malformed body no longer answers for
 * us: it reaches the function, whose router reports it.
 */
export const FRAMEWORK_BODY_LIMIT_BYTES = 32 * 1024 * 1024;

type Middleware = (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void;
type ParserOptions = { type?: unknown; verify?: unknown } & Record<string, unknown>;
type ParserFactory = (options?: ParserOptions) => Middleware;
interface BodyParserModule {
  json: ParserFactory;
  raw: ParserFactory;
  text: ParserFactory;
  urlencoded: ParserFactory;
}

const GUARDED = Symbol.for('sessionforge.frameworkBodyGuarded');

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
  try {
    const here = createRequire(import.meta.url);
    const framework = createRequire(here.resolve('@google-cloud/functions-framework'));
    parsers = framework('body-parser') as typeof parsers;
  } catch {
    return;
  }
  if (parsers[GUARDED]) return;
  const raw = parsers.raw;
  const rawOnly =
    (defaultType: string): ParserFactory =>
    (options = {}) => {
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
