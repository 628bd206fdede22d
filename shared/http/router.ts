import { randomUUID } from 'node:crypto';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { z } from 'zod';
import { type Failure, fail, type Issue } from '../errors/codes.js';
import { isDependencyUnavailable, unavailable } from '../errors/unavailable.js';
import type { Logger } from '../log/logger.js';
import type { AuthOutcome } from './auth.js';
import {
  bufferedBody,
  closeWhenAnswered,
  compressedBody,
  DEFAULT_BODY_LIMIT_BYTES,
  declaredLength,
  hasBody,
  mediaType,
  PLATFORM_BODY_LIMIT_BYTES,
  type RequestWithRawBody,
  readBody,
  tooLarge,
} from './body.js';
import { clientIp } from './client-ip.js';
import { errorPayload, errorText, scimErrorPayload, sendText, writeJson } from './errors.js';
import { guardFrameworkBodyParsers } from './framework-body.js';
import { applySecurityHeaders, securityHeaders } from './headers.js';
import { compilePath, matchPath, normalizedPath } from './path.js';
import type { AnyRoute, AuthRequirement, HandlerResult, Reply } from './route.js';

export interface HttpEdge<Deps> {
  deps: Deps;
  logger: Logger;
  now: () => Date;
  trustedProxyHops: number;
  authenticate: (
    req: IncomingMessage,
    requirement: AuthRequirement,
    context: { ip: string; now: Date; orgId?: string | null },
  ) => Promise<AuthOutcome>;
  /** Runs after a handler that may have written to the outbox (publishes promptly). */
  afterMutation?: () => Promise<unknown>;
}

export type HttpFunction = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/**
 * Turns a unit's route table into the one HTTP function the Functions Framework registers.
 * Every request passes the same gates in the same order: security headers and a request id,
 * path normalization, route match, authentication and authorization (with the route's `guard`),
 * and only then the body: content type, size, JSON parsing, zod validation; then the handler. A
 * caller that is refused never gets a byte of its body read, and an answer given while part of
 * the body is still on the way closes the connection instead of draining it. Failures become
 * `{"error": {...}}` bodies; anything unexpected is logged with its stack and answered with a
 * bare INTERNAL.
 */
export function createHttpFunction<Deps>(
  unit: string,
  routes: AnyRoute<Deps>[],
  edge: () => Promise<HttpEdge<Deps>>,
): HttpFunction {
  for (const route of routes) {
    if ((route.bodyLimitBytes ?? 0) > PLATFORM_BODY_LIMIT_BYTES) {
      throw new Error(`${route.method} ${route.path}: a body limit above what a deployed unit receives`);
    }
  }
  const table = compileTable(routes);
  // Deployed, the Functions Framework builds its server after this module loads: keep its body
  // parsers from reading what this router reads itself, after authentication.
  guardFrameworkBodyParsers();
  return async (req, res) => {
    const requestId = randomUUID();
    let log: Logger | undefined;
    try {
      const ctx = await edge();
      log = ctx.logger.child({ requestId, unit });
      const path = normalizedPath(req.url ?? '/');
      const found = findRoute(table, path, req.method);
      const route = 'route' in found ? found.route : undefined;
      const outcome =
        'route' in found
          ? await handleRoute(req as RequestWithRawBody, ctx, found.route, found.params, requestId, log)
          : found;
      const streaming = respond(req, res, outcome, route, requestId);
      if (streaming) await streaming;
      const status = outcome.ok === false ? errorPayload(outcome).status : (outcome as Reply).status;
      log.access({ method: req.method, path: path ?? 'invalid', status });
    } catch (error) {
      // A dependency outage is not a bug: the client is told to come back, without a stack in the log.
      const outage = isDependencyUnavailable(error);
      if (outage) (log ?? console).warn('dependency unavailable', { error: String(error) });
      else (log ?? console).error('unhandled error', { error });
      if (!res.headersSent) {
        closeWhenAnswered(req, res);
        const payload = errorPayload(outage ? unavailable() : fail('INTERNAL'));
        writeJson(res, payload.status, payload.body, answerHeaders(requestId), payload.headers);
      } else res.destroy();
    }
  };
}

interface TableEntry<Deps> {
  route: AnyRoute<Deps>;
  compiled: ReturnType<typeof compilePath>;
}

/**
 * The route table, ready for matching: paths without parameters in a map (one lookup per
 * request), the others in declaration order. A fixed path that an earlier parameterized route of
 * the same method would match is refused when the table is built, so the map never changes which
 * route answers.
 */
interface CompiledTable<Deps> {
  exact: Map<string, Array<TableEntry<Deps>>>;
  patterns: Array<TableEntry<Deps>>;
}

function compileTable<Deps>(routes: AnyRoute<Deps>[]): CompiledTable<Deps> {
  const exact = new Map<string, Array<TableEntry<Deps>>>();
  const patterns: Array<TableEntry<Deps>> = [];
  for (const route of routes) {
    const entry = { route, compiled: compilePath(route.path) };
    if (entry.compiled.names.length > 0) patterns.push(entry);
    else {
      // First match used to win; the map lets a fixed path win instead. Say so if that differs.
      const shadow = patterns.find(
        (p) => p.route.method === route.method && matchPath(p.compiled, route.path),
      );
      if (shadow) {
        throw new Error(
          `${route.method} ${route.path} is declared after ${shadow.route.path}, which matches it`,
        );
      }
      const list = exact.get(route.path) ?? [];
      list.push(entry);
      exact.set(route.path, list);
    }
  }
  return { exact, patterns };
}

/** The route a request names and its path parameters, or the refusal (404, or 405 with the methods the path takes). */
function findRoute<Deps>(
  table: CompiledTable<Deps>,
  path: string | null,
  method: string | undefined,
): { route: AnyRoute<Deps>; params: Record<string, string> } | Failure {
  if (path === null) return fail('NOT_FOUND');
  const exact = table.exact.get(path);
  if (exact) {
    // A path without parameters: the method picks the route (routes' paths are distinct per method).
    for (const entry of exact) {
      if (entry.route.method === method) return { route: entry.route, params: {} };
    }
  }
  const otherMethods = new Set<string>(exact?.map((entry) => entry.route.method));
  for (const entry of table.patterns) {
    const params = matchPath(entry.compiled, path);
    if (!params) continue;
    if (entry.route.method !== method) {
      otherMethods.add(entry.route.method);
      continue;
    }
    return { route: entry.route, params };
  }
  return otherMethods.size > 0
    ? methodNotAllowed(method, [...otherMethods])
    : fail('NOT_FOUND', 'No such route.');
}

async function handleRoute<Deps>(
  req: RequestWithRawBody,
  ctx: HttpEdge<Deps>,
  route: AnyRoute<Deps>,
  params: Record<string, string>,
  requestId: string,
  log: Logger,
): Promise<HandlerResult> {
  const now = ctx.now();
  const ip = clientIp(req, ctx.trustedProxyHops);
  if (ip === null) {
    // Before the body, throttles and sessions: an address we cannot read must not become a bucket or a session's IP.
    return fail('VALIDATION_FAILED', "The request's client address could not be determined.", {
      issues: [{ path: 'x-forwarded-for', message: 'the client address is not an IP address' }],
    });
  }

  // Who is calling is settled before any of the body is read: an unauthenticated 400 MiB upload
  // costs us its headers, not its bytes.
  let orgId: string | null | undefined;
  if (route.auth.kind === 'org') {
    orgId = route.orgFrom ? await route.orgFrom(params, ctx.deps) : (params.orgId ?? null);
  }
  // A public route has no one to authenticate: no call, no promise to wait for.
  const auth =
    route.auth.kind === 'none' ? PUBLIC : await ctx.authenticate(req, route.auth, { ip, now, orgId });
  if (auth.ok === false) return auth;
  if (route.guard) {
    const refused = await route.guard(
      { req, params, ip, now, principal: auth.principal, org: auth.org },
      ctx.deps,
    );
    if (refused) return refused;
  }

  // No body expected and none sent (every GET): nothing to read, no need to wait for it.
  const parsed =
    !route.body && !route.streamsBody && !hasBody(req) && !req.rawBody ? NO_BODY : parseBody(req, route);
  // A body already here is parsed without a wait.
  const body = parsed instanceof Promise ? await parsed : parsed;
  if (body.ok === false) return body;

  const query = parseQuery(req, route);
  if (query.ok === false) return query;

  const result = await route.handler(
    {
      req,
      body: body.value,
      query: query.value,
      params,
      ip,
      userAgent: headerValue(req, 'user-agent'),
      requestId,
      now,
      log,
      principal: auth.principal,
      org: auth.org,
    },
    ctx.deps,
  );
  if (req.method !== 'GET' && route.enqueues !== false && ctx.afterMutation) {
    await ctx
      .afterMutation()
      .catch((error: unknown) => log.error('publishing after a change failed', { error }));
  }
  return result;
}

const PUBLIC: AuthOutcome = Object.freeze({ ok: true, principal: null, org: null });

const NO_BODY = Object.freeze({ ok: true, value: undefined }) as { ok: true; value: unknown };

type BodyOutcome = { ok: true; value: unknown } | Failure;

function parseBody<Deps>(req: RequestWithRawBody, route: AnyRoute<Deps>): BodyOutcome | Promise<BodyOutcome> {
  const limit = route.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;
  if (!route.body && !route.streamsBody) {
    // A body on a route that takes none is read (bounded) and ignored.
    if (hasBody(req) || req.rawBody) {
      return readBody(req, limit).then((drained) => (Buffer.isBuffer(drained) ? NO_BODY : drained));
    }
    return NO_BODY;
  }
  const accepted = route.contentTypes ?? ['application/json'];
  const type = mediaType(req);
  if (!type || !accepted.includes(type)) {
    if (!hasBody(req) && !req.rawBody?.length && !type) {
      return validationFailed([{ path: '', message: 'a request body is required' }]);
    }
    return fail('UNSUPPORTED_MEDIA_TYPE', `Send ${accepted.join(' or ')}.`);
  }
  if (route.streamsBody) {
    // The handler reads the stream within the limit; what can be judged up front is judged here.
    if ((req.headers['content-encoding'] ?? 'identity').toLowerCase() !== 'identity') return compressedBody();
    if (declaredLength(req) > limit) return tooLarge(limit);
    return NO_BODY;
  }
  const raw = bufferedBody(req, limit);
  if (raw === undefined) return readBody(req, limit).then((read) => decodeBody(read, type, route));
  return decodeBody(raw, type, route);
}

function decodeBody<Deps>(raw: Buffer | Failure, type: string, route: AnyRoute<Deps>): BodyOutcome {
  if (!Buffer.isBuffer(raw)) return raw;
  let value: unknown = raw;
  // application/json, and the JSON media types built on it (RFC 6839: application/scim+json).
  if (type === 'application/json' || type.endsWith('+json')) {
    try {
      value = JSON.parse(raw.toString('utf8'));
    } catch {
      return validationFailed([{ path: '', message: 'the body is not valid JSON' }]);
    }
  }
  const parsed = route.body!.safeParse(value);
  if (!parsed.success) return validationFailed(zodIssues(parsed.error));
  return { ok: true, value: parsed.data };
}

function parseQuery<Deps>(
  req: IncomingMessage,
  route: AnyRoute<Deps>,
): { ok: true; value: unknown } | Failure {
  if (!route.query) return { ok: true, value: undefined };
  const search = new URL(`http://localhost${req.url ?? '/'}`).searchParams;
  const raw: Record<string, string> = {};
  for (const [key, value] of search) if (!(key in raw)) raw[key] = value;
  const parsed = route.query.safeParse(raw);
  if (!parsed.success) return validationFailed(zodIssues(parsed.error));
  return { ok: true, value: parsed.data };
}

export function zodIssues(error: z.ZodError): Issue[] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join('.'),
    message:
      issue.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : issue.message,
  }));
}

/** A known path asked with a method it does not take: say which ones it does (405 + `Allow`). */
export function methodNotAllowed(method: string | undefined, allow: string[]): Failure {
  const sorted = [...allow].sort();
  return fail(
    'METHOD_NOT_ALLOWED',
    `${method ?? 'This method'} is not allowed here; use ${sorted.join(' or ')}.`,
    {
      allow: sorted,
    },
  );
}

function validationFailed(issues: Issue[]): Failure {
  return fail('VALIDATION_FAILED', 'The request is not valid.', { issues });
}

function headerValue(req: IncomingMessage, name: string): string | null {
  const value = req.headers[name];
  return (Array.isArray(value) ? value[0] : value)?.slice(0, 512) ?? null;
}

/**
 * The headers every answer carries: the security headers and the request id. JSON answers take
 * them in their one writeHead (a setHeader per header, validated and stored one by one, was a
 * tenth of a small request's cost); text and raw answers set them first.
 */
function answerHeaders(requestId: string): OutgoingHttpHeaders {
  return { ...securityHeaders, 'x-request-id': requestId };
}

function setAnswerHeaders(res: ServerResponse, requestId: string): void {
  applySecurityHeaders(res);
  res.setHeader('x-request-id', requestId);
}

/** Answers at once; returns a promise only while a streamed body is still being piped. */
function respond(
  req: IncomingMessage,
  res: ServerResponse,
  outcome: HandlerResult,
  route: Pick<AnyRoute<unknown>, 'errorFormat' | 'textError'> | undefined,
  requestId: string,
): Promise<void> | undefined {
  closeWhenAnswered(req, res);
  if (outcome.ok === false) {
    const payload = errorPayload(outcome);
    if (route?.errorFormat === 'scim') {
      const scim = scimErrorPayload(outcome);
      writeJson(res, scim.status, scim.body, answerHeaders(requestId), scim.headers);
    } else if (route?.errorFormat === 'text') {
      const text = route.textError?.(outcome, req) ?? { status: payload.status, message: errorText(outcome) };
      setAnswerHeaders(res, requestId);
      sendText(res, text.status, text.message, payload.headers);
    } else writeJson(res, payload.status, payload.body, answerHeaders(requestId), payload.headers);
    return;
  }
  const reply = outcome as Reply;
  if (reply.raw === undefined) {
    writeJson(res, reply.status, reply.body, answerHeaders(requestId), reply.headers);
    return;
  }
  setAnswerHeaders(res, requestId);
  for (const [name, value] of Object.entries(reply.headers ?? {})) res.setHeader(name, value);
  res.statusCode = reply.status;
  if (Buffer.isBuffer(reply.raw)) {
    res.setHeader('content-length', reply.raw.length);
    res.end(reply.raw);
    return;
  }
  return pipeline(reply.raw as Readable, res).catch((error: unknown) => {
    // A client that hangs up on a stream (server-sent events) is normal, not a server fault.
    if ((error as { code?: string }).code !== 'ERR_STREAM_PREMATURE_CLOSE') throw error;
  });
}
