import { lookup } from 'node:dns/promises';
import type { IncomingMessage } from 'node:http';
import * as http from 'node:http';
import * as https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../log/metrics.js';
import { type AddressVerdict, checkAddress } from './address-policy.js';

/** What a name resolves to; injectable so tests can play a hostile DNS server. */
export type Resolver = (hostname: string) => Promise<Array<{ address: string; family: number }>>;

export interface OutboundSettings {
  /** Loopback and private ranges may be reached (embedded mode: the in-process OIDC provider). */
  allowPrivate: boolean;
  /** Plain http may be used (embedded mode only); otherwise https only. */
  allowHttp: boolean;
  logger: Logger;
  metrics?: Metrics;
  resolve?: Resolver;
  /** From the start of the call to the last body byte (DNS, connect, TLS, headers, body). */
  timeoutMs?: number;
  /** From the socket's creation to its (TLS) connection. */
  connectTimeoutMs?: number;
  maxResponseBytes?: number;
  /**
   * What a body over `maxResponseBytes` does: `fail` (default; a document we must read whole) or
   * `truncate` (webhooks: only the status matters, so the rest is not read).
   */
  overflow?: 'fail' | 'truncate';
}

export interface OutboundInit {
  method?: string;
  headers?: HeadersInit;
  body?: string | URLSearchParams | Uint8Array | null;
  signal?: AbortSignal | null;
}

/** fetch's shape, as openid-client (`customFetch`) and jose (`customFetch`) call it. */
export type OutboundFetch = (url: string | URL, init?: OutboundInit) => Promise<Response>;

export const OUTBOUND_DEFAULTS = {
  timeoutMs: 5000,
  connectTimeoutMs: 3000,
  maxResponseBytes: 1024 * 1024,
} as const;

/**
 * Every failure of an outbound fetch. `reason` is for our logs only; callers show the user one
 * generic message whatever it was, so the answer cannot be used to map ports or networks.
 */
export class OutboundError extends Error {
  constructor(readonly reason: string) {
    super('The remote service could not be reached.');
    this.name = 'OutboundError';
  }
}

const defaultResolver: Resolver = (hostname) => lookup(hostname, { all: true, verbatim: true });
const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

/**
 * The one client for fetches made on a user's behalf (OIDC discovery, JWKS, token and userinfo
 * endpoints; later webhooks). The host is resolved once and every address checked
 * (address-policy.ts); the socket then connects to that checked address through a pinned
 * `lookup`, so a second DNS answer (rebinding) cannot swap it, while TLS SNI and Host stay the
 * name. Redirects are errors, the whole exchange has a deadline and the body a size cap.
 */
export function createOutboundFetch(settings: OutboundSettings): OutboundFetch {
  const timeoutMs = settings.timeoutMs ?? OUTBOUND_DEFAULTS.timeoutMs;
  const connectTimeoutMs = settings.connectTimeoutMs ?? OUTBOUND_DEFAULTS.connectTimeoutMs;
  const maxResponseBytes = settings.maxResponseBytes ?? OUTBOUND_DEFAULTS.maxResponseBytes;
  const resolve = settings.resolve ?? defaultResolver;

  async function pin(hostname: string, deadline: AbortSignal): Promise<AddressVerdict> {
    if (isIP(hostname)) return checkAddress(hostname, settings.allowPrivate);
    const answers = await abortable(resolve(hostname), deadline);
    if (answers.length === 0) return { ok: false, reason: `${hostname} does not resolve` };
    // Every answer must pass: a name that also points inside is refused, not raced.
    const verdicts = answers.map((a) => checkAddress(a.address, settings.allowPrivate));
    const refused = verdicts.find((v) => !v.ok);
    return refused ?? (verdicts[0] as AddressVerdict);
  }

  return async (input, init = {}) => {
    const url = new URL(String(input));
    const started = Date.now();
    const deadline = AbortSignal.any(
      [AbortSignal.timeout(timeoutMs), init.signal].filter((s): s is AbortSignal => !!s),
    );
    try {
      if (url.protocol !== 'https:' && !(url.protocol === 'http:' && settings.allowHttp)) {
        throw new OutboundError(`scheme ${url.protocol} is not allowed`);
      }
      if (url.username || url.password) throw new OutboundError('credentials in the URL');
      const hostname = url.hostname.replace(/^\[|\]$/g, '');
      const pinned = await pin(hostname, deadline);
      if (!pinned.ok) throw new OutboundError(`refused: ${pinned.reason}`);
      return await exchange(url, hostname, pinned, init, deadline, {
        connectTimeoutMs,
        maxResponseBytes,
        truncate: settings.overflow === 'truncate',
      });
    } catch (error) {
      const reason =
        error instanceof OutboundError
          ? error.reason
          : deadline.aborted
            ? `timed out after ${Date.now() - started} ms`
            : `${(error as { code?: string }).code ?? 'error'}: ${(error as Error).message}`;
      settings.metrics?.increment('outbound_refused', { host: url.host });
      // The path is not logged: some intakes (Sumo Logic HTTP sources) carry their token in it.
      settings.logger.warn('outbound fetch failed', { host: url.host, reason });
      throw error instanceof OutboundError ? error : new OutboundError(reason);
    }
  };
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new OutboundError('timed out'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new OutboundError('timed out resolving'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

function exchange(
  url: URL,
  hostname: string,
  pinned: { address: string; family: 4 | 6 },
  init: OutboundInit,
  deadline: AbortSignal,
  limits: { connectTimeoutMs: number; maxResponseBytes: number; truncate: boolean },
): Promise<Response> {
  // The socket asks this instead of DNS, so it can only ever reach the address checked above.
  const pinnedLookup: LookupFunction = (_name, options, callback) => {
    if (options.all) callback(null, [{ address: pinned.address, family: pinned.family }]);
    else callback(null, pinned.address, pinned.family);
  };
  const headers: Record<string, string> = {};
  new Headers(init.headers).forEach((value, key) => {
    headers[key] = value;
  });
  headers['accept-encoding'] = 'identity';
  const body =
    init.body === undefined || init.body === null
      ? undefined
      : init.body instanceof Uint8Array
        ? Buffer.from(init.body)
        : Buffer.from(init.body.toString());
  if (body) headers['content-length'] = String(body.length);
  const secure = url.protocol === 'https:';

  return new Promise<Response>((resolve, reject) => {
    const request = (secure ? https : http).request({
      protocol: url.protocol,
      hostname,
      port: url.port || (secure ? 443 : 80),
      path: `${url.pathname}${url.search}`,
      method: init.method ?? 'GET',
      headers,
      lookup: pinnedLookup,
      // SNI and certificate checks use the name, not the pinned address.
      ...(secure && !isIP(hostname) ? { servername: hostname } : {}),
      // A fresh connection per call: a pooled socket could belong to an earlier resolution.
      agent: false,
      signal: deadline,
    });
    const fail = (reason: string) => {
      request.destroy();
      reject(new OutboundError(reason));
    };
    const connectTimer = setTimeout(() => fail('connect timed out'), limits.connectTimeoutMs);
    request.on('socket', (socket) => {
      socket.once(secure ? 'secureConnect' : 'connect', () => clearTimeout(connectTimer));
    });
    request.on('error', (error) => {
      clearTimeout(connectTimer);
      reject(error);
    });
    request.on('response', (response: IncomingMessage) => {
      clearTimeout(connectTimer);
      const status = response.statusCode ?? 0;
      if (status >= 300 && status < 400) return fail(`redirect (${status}) refused`);
      const declared = Number(response.headers['content-length'] ?? 0);
      if (declared > limits.maxResponseBytes && !limits.truncate) {
        return fail(`body of ${declared} bytes is over the cap`);
      }
      const chunks: Buffer[] = [];
      let received = 0;
      let settled = false;
      const finish = () => {
        if (settled) return;
        settled = true;
        const responseHeaders = new Headers();
        for (let i = 0; i + 1 < response.rawHeaders.length; i += 2) {
          responseHeaders.append(response.rawHeaders[i] as string, response.rawHeaders[i + 1] as string);
        }
        resolve(
          new Response(NULL_BODY_STATUSES.has(status) ? null : Buffer.concat(chunks), {
            status,
            statusText: response.statusMessage ?? '',
            headers: responseHeaders,
          }),
        );
      };
      response.on('data', (chunk: Buffer) => {
        if (settled) return;
        received += chunk.length;
        if (received > limits.maxResponseBytes) {
          if (limits.truncate) {
            chunks.push(chunk.subarray(0, chunk.length - (received - limits.maxResponseBytes)));
            finish();
            request.destroy();
            return;
          }
          response.destroy();
          fail(`body over ${limits.maxResponseBytes} bytes`);
          return;
        }
        chunks.push(chunk);
      });
      response.on('error', (error) => {
        if (!settled) reject(error);
      });
      response.on('end', finish);
    });
    request.end(body);
  });
}
