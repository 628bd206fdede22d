import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { type Failure, fail } from '../errors/codes.js';
import { bytesInWords } from '../errors/sizes.js';

export const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024;

const EMPTY_BODY = Buffer.alloc(0);

/**
 * The largest request a deployed unit receives: Cloud Run refuses HTTP/1 requests above 32 MiB
 * before they reach the instance. No route may accept more, so the local runtime refuses at the
 * same size and a client sees the same limit in both (router.ts checks every route table).
 */
export const PLATFORM_BODY_LIMIT_BYTES = 32 * 1024 * 1024;

export type RequestWithRawBody = IncomingMessage & { rawBody?: Buffer };

/**
 * `readBody` without waiting, where no wait is needed: the body, or its refusal, when the checks
 * decide from the headers or the whole body is already here; undefined while some of it is still
 * to come. A small body usually arrives with the headers, and by the time the router asks (after
 * authentication) the parser has buffered all of it.
 */
export function bufferedBody(req: RequestWithRawBody, limitBytes: number): Buffer | Failure | undefined {
  const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
  if (encoding !== 'identity') {
    return compressedBody();
  }
  if (req.rawBody !== undefined) {
    return req.rawBody.length > limitBytes ? tooLarge(limitBytes) : req.rawBody;
  }
  if (declaredLength(req) > limitBytes) return tooLarge(limitBytes);
  if (req.complete && req.readableFlowing === null) {
    if (req.readableLength > limitBytes) return tooLarge(limitBytes);
    return (req.read() as Buffer | null) ?? EMPTY_BODY;
  }
  return undefined;
}

/**
 * Reads the body, refusing it as soon as it passes `limitBytes` (by Content-Length before reading
 * anything, else while reading), so an oversized body never sits in memory. Compressed request
 * bodies are refused outright: inflating them is how gzip bombs get in. Where a framework parser
 * has already buffered the body (`rawBody`), only the size check applies.
 *
 * A refused body is left unread (`abandonBody`): the answer then closes the connection instead of
 * draining the rest (router.ts).
 */
export async function readBody(req: RequestWithRawBody, limitBytes: number): Promise<Buffer | Failure> {
  const buffered = bufferedBody(req, limitBytes);
  if (buffered !== undefined) return buffered;
  // Listeners, not `for await`: leaving an async iterator early destroys the request, and with it
  // the socket the 413 must still be written to.
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (outcome: Buffer | Failure) => {
      req.off('data', onData).off('end', onEnd).off('error', onCut).off('close', onCut);
      resolve(outcome);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limitBytes) {
        chunks.length = 0;
        abandonBody(req);
        done(tooLarge(limitBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => done(Buffer.concat(chunks, size));
    // A client that hangs up mid-body gets no answer; this only ends the wait.
    const onCut = () => done(fail('VALIDATION_FAILED', 'The request body was cut off.'));
    req.on('data', onData).on('end', onEnd).on('error', onCut).on('close', onCut);
  });
}

/** The Content-Length the client declared; 0 when there is none (a chunked body is judged while read). */
export function declaredLength(req: IncomingMessage): number {
  const declared = Number(req.headers['content-length'] ?? 0);
  return Number.isFinite(declared) ? declared : 0;
}

/**
 * Stops caring about the rest of a body: it is discarded as it arrives, never kept, until the
 * answer (sent with `Connection: close`, router.ts) ends the connection.
 */
export function abandonBody(req: IncomingMessage): void {
  req.removeAllListeners('data');
  req.resume();
}

/** True while part of the request body has not arrived; answering then must close the connection. */
export function bodyPending(req: RequestWithRawBody): boolean {
  return req.rawBody === undefined && !req.complete;
}

/** How long, and for how many more bytes, a closing connection keeps reading after its answer. */
const LINGER_MS = 2000;
const LINGER_BYTES = 8 * 1024 * 1024;
const LINGERING = Symbol('lingering');

/**
 * An answer given while part of the body is still arriving (a refusal before the body was read,
 * a 413 mid-body) closes the connection: sent with `Connection: close`, then a lingering close.
 * Node would otherwise destroy the socket right after the answer, and the data the client is
 * still sending would draw a TCP reset that can wipe the unread answer on the client's side. So
 * the write side is shut (FIN after the answer) and what still arrives is discarded, never kept,
 * for at most 2 seconds or 8 MiB; a client reads the answer meanwhile and stops sending. The rest
 * of a 400 MiB body is never drained.
 */
export function closeWhenAnswered(req: RequestWithRawBody, res: ServerResponse): void {
  if (!bodyPending(req)) return;
  res.setHeader('connection', 'close');
  const socket = req.socket as (Socket & { [LINGERING]?: true }) | null;
  if (!socket || socket[LINGERING]) return;
  socket[LINGERING] = true;
  // Node's HTTP server ends a `Connection: close` exchange with socket.destroySoon().
  socket.destroySoon = () => {
    socket.end();
    // The HTTP parser reads the socket's handle directly (no 'data' events), so count bytesRead.
    const readBefore = socket.bytesRead;
    const started = Date.now();
    const watch = setInterval(() => {
      if (Date.now() - started > LINGER_MS || socket.bytesRead - readBefore > LINGER_BYTES) socket.destroy();
    }, 50);
    watch.unref();
    socket.once('close', () => clearInterval(watch));
  };
}

export function tooLarge(limitBytes: number, what = 'The request body'): Failure {
  return fail('PAYLOAD_TOO_LARGE', `${what} is larger than ${bytesInWords(limitBytes)}, the most accepted.`);
}

/** Inflating request bodies is how gzip bombs get in, so none are accepted. */
export function compressedBody(): Failure {
  return fail('UNSUPPORTED_MEDIA_TYPE', 'Compressed request bodies are not accepted.');
}

export function hasBody(req: IncomingMessage): boolean {
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const length = Number(req.headers['content-length'] ?? 0);
  return Number.isFinite(length) && length > 0;
}

/** The media type without parameters, lower-cased ("application/json; charset=utf-8" → "application/json"). */
export function mediaType(req: IncomingMessage): string | undefined {
  const header = req.headers['content-type'];
  return header?.split(';')[0]?.trim().toLowerCase() || undefined;
}
