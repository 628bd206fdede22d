import type { IncomingMessage } from 'node:http';
import { type Failure, fail } from '../errors/codes.js';

export const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024;

export type RequestWithRawBody = IncomingMessage & { rawBody?: Buffer };

/**
 * Reads the body, refusing it as soon as it passes `limitBytes` (by Content-Length before reading
 * anything, else while reading), so an oversized body never sits in memory. Compressed request
 * bodies are refused outright: inflating them is how gzip bombs get in. Under the Functions
 * Framework the body has already been buffered (`rawBody`), and only the size check applies.
 */
export async function readBody(req: RequestWithRawBody, limitBytes: number): Promise<Buffer | Failure> {
  const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
  if (encoding !== 'identity') {
    return compressedBody();
  }
  if (req.rawBody !== undefined) {
    return req.rawBody.length > limitBytes ? tooLarge(limitBytes) : req.rawBody;
  }
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limitBytes) {
    req.resume();
    return tooLarge(limitBytes);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limitBytes) {
      req.resume();
      return tooLarge(limitBytes);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

export function tooLarge(limitBytes: number): Failure {
  return fail('PAYLOAD_TOO_LARGE', `The request body is larger than ${limitBytes} bytes.`);
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
