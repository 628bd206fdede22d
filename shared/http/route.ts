import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type { z } from 'zod';
import type { Failure } from '../errors/codes.js';
import type { Logger } from '../log/logger.js';
import type { OrgAccess, Principal } from './principal.js';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export const roles = ['viewer', 'member', 'admin', 'owner'] as const;
export type Role = (typeof roles)[number];

/**
 * Who may call a route.
 * - `session`: a signed-in user; API keys never pass (they are not users).
 * - `org`: a member of the route's org with at least `minRole` (a session), or an API key of that
 *   org with such a role unless `apiKeys: false`. The org comes from the `:orgId` path parameter,
 *   or from the route's `orgFrom` (e.g. a recording id → its org).
 * - `basic_key`: an org API key sent as the HTTP Basic password (the asciinema CLI sends its
 *   install id there), with at least `minRole`, acting in the key's own org.
 * - `scim`: an org's SCIM token (`sf_scim_…`) as `Authorization: Bearer`, acting in the token's own
 *   org (after its network allowlist); sessions and API keys never pass, and a SCIM token passes
 *   nothing else.
 * `stepUp`: the session must also be inside its sudo window (API keys never are).
 * `boundSessions` (session routes): a session an org's SSO started is bound to that org and reaches
 * only its org's routes and the session routes that say `true` here (the session itself: current,
 * logout, step-up); every other personal route refuses it, so a new route is safe by default.
 * `whileHeld`: a session held until it steps up (an impossible-travel sign-in) may call this
 * route. Only the session's own views, step-up and logout say so; every other route, and every
 * new one by default, answers such a session 403 STEP_UP_REQUIRED with the hold's `reason`.
 *
 * The router checks the requirement before it reads a byte of the body.
 */
export type AuthRequirement =
  | { kind: 'none' }
  | { kind: 'session'; stepUp?: boolean; boundSessions?: boolean; whileHeld?: boolean }
  | { kind: 'org'; minRole: Role; stepUp?: boolean; apiKeys?: boolean }
  | { kind: 'basic_key'; minRole: Role }
  | { kind: 'scim' };

export interface RouteContext<Body, Query> {
  req: IncomingMessage;
  body: Body;
  query: Query;
  params: Record<string, string>;
  ip: string;
  userAgent: string | null;
  requestId: string;
  now: Date;
  log: Logger;
  principal: Principal | null;
  /** The org the route acts in and the caller's role there (org routes only). */
  org: OrgAccess | null;
}

export interface Reply {
  ok?: true;
  status: number;
  body?: unknown;
  headers?: Record<string, string | string[]>;
  /** A non-JSON body (downloads, streams); `headers` must carry its content type. */
  raw?: Buffer | Readable;
}

export type HandlerResult = Reply | Failure;

/** What a route's `guard` sees: the caller and the path, never the body (it is not read yet). */
export type GuardContext = Pick<
  RouteContext<undefined, undefined>,
  'req' | 'params' | 'ip' | 'now' | 'principal' | 'org'
>;

export interface ResponseSpec {
  description: string;
  schema?: z.ZodType;
  /** Response headers worth documenting (name → what it says). */
  headers?: Record<string, { description: string; type: 'integer' | 'string' }>;
}

export interface RouteSpec<Deps, Body = unknown, Query = unknown> {
  method: Method;
  /** Full path as clients call it, with `:name` parameters: `/api/sessions/:id`. */
  path: string;
  summary: string;
  tags: string[];
  auth: AuthRequirement;
  /** For org routes without `:orgId`: finds the org of the addressed resource; null answers 404. */
  orgFrom?: (params: Record<string, string>, deps: Deps) => Promise<string | null>;
  body?: z.ZodType<Body>;
  query?: z.ZodType<Query>;
  /** Media types the body may have; default application/json. */
  contentTypes?: string[];
  /** At most PLATFORM_BODY_LIMIT_BYTES (body.ts); default 1 MiB. */
  bodyLimitBytes?: number;
  /**
   * The handler reads `req` itself, as a stream, within `bodyLimitBytes` (no `body` schema). The
   * router still checks the content type, compression and the declared length first.
   */
  streamsBody?: true;
  /**
   * Checks that need only the caller and the path (who owns the addressed resource), run after
   * authentication and before the body is read, so a refused caller never gets to send one.
   */
  guard?: (ctx: GuardContext, deps: Deps) => Promise<Failure | null>;
  /**
   * `text`: failures answer a one-line text/plain body (for CLIs that print the body as is);
   * `scim`: RFC 7644's error schema as application/scim+json; default our JSON error shape.
   */
  errorFormat?: 'json' | 'text' | 'scim';
  /**
   * With `errorFormat: 'text'`: the status and line a failure answers with, for a client that
   * shows only some statuses' bodies (the asciinema CLI). Default: the failure's own.
   */
  textError?: (failure: Failure, req: IncomingMessage) => { status: number; message: string };
  responses: Record<number, ResponseSpec>;
  /** False for a non-GET route that never writes to the outbox (a verify endpoint): no drain after it. */
  enqueues?: boolean;
  /**
   * The route checks a credential (password, MFA code, passkey, identity token) or sends mail to an
   * address an anonymous caller names (signup, password reset). Cloud Armor answers 429 to an
   * address that calls such routes more than 10 times in 15 minutes, before the request reaches a
   * function: infra/edge-routes.tf is generated from this flag (`npm run infra:routes`), and
   * tests/infra fails when an anonymous non-GET route neither has it nor is excused there.
   */
  edgeThrottled?: true;
  handler: (ctx: RouteContext<Body, Query>, deps: Deps) => Promise<HandlerResult>;
}

// biome-ignore lint/suspicious/noExplicitAny: a route table mixes routes of many body/query types
export type AnyRoute<Deps> = RouteSpec<Deps, any, any>;

/** Identity function that lets TypeScript infer Body and Query from the schemas. */
export function defineRoute<Deps, Body = undefined, Query = undefined>(
  spec: RouteSpec<Deps, Body, Query>,
): RouteSpec<Deps, Body, Query> {
  return spec;
}

export function json(status: number, body?: unknown, headers?: Record<string, string | string[]>): Reply {
  return { status, body, ...(headers ? { headers } : {}) };
}
