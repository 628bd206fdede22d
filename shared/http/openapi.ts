import { z } from 'zod';
import { errorCodes } from '../errors/codes.js';
import type { AnyRoute } from './route.js';

/** The OpenAPI 3.1 document, generated from the same zod schemas that validate requests. */
export function buildOpenApi(
  routes: AnyRoute<unknown>[],
  info: { version: string },
): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const openapiPath = route.path.replace(/:([A-Za-z]+)/g, '{$1}');
    const parameters: unknown[] = [...route.path.matchAll(/:([A-Za-z]+)/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      schema: { type: 'string' },
    }));
    if (route.query) {
      const schema = toSchema(route.query) as { properties?: Record<string, unknown>; required?: string[] };
      for (const [name, property] of Object.entries(schema.properties ?? {})) {
        parameters.push({
          name,
          in: 'query',
          required: schema.required?.includes(name) ?? false,
          schema: property,
        });
      }
    }
    const responses: Record<string, unknown> = {};
    for (const [status, spec] of Object.entries(route.responses)) {
      responses[status] = {
        description: spec.description,
        ...(spec.headers
          ? {
              headers: Object.fromEntries(
                Object.entries(spec.headers).map(([name, header]) => [
                  name,
                  { description: header.description, schema: { type: header.type } },
                ]),
              ),
            }
          : {}),
        ...(spec.schema ? { content: { 'application/json': { schema: toSchema(spec.schema) } } } : {}),
      };
    }
    for (const [status, description] of Object.entries(authFailures(route))) {
      const documented = responses[status] as { description: string } | undefined;
      responses[status] = documented
        ? { ...documented, description: `${documented.description}; ${description}` }
        : {
            description,
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
          };
    }
    responses['503'] ??= {
      description:
        'UNAVAILABLE: a dependency (database, storage) is down and nothing was written; retry after `Retry-After` seconds',
      headers: {
        'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer' } },
      },
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    };
    responses.default =
      route.errorFormat === 'text'
        ? {
            description: 'Error: one line of text/plain',
            content: { 'text/plain': { schema: { type: 'string' } } },
          }
        : {
            description: 'Error',
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
          };
    const operation: Record<string, unknown> = {
      summary: route.summary,
      tags: route.tags,
      operationId: `${route.method.toLowerCase()}${route.path.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
      ...(parameters.length ? { parameters } : {}),
      responses,
      security: securityOf(route),
    };
    if (route.streamsBody) {
      operation.requestBody = {
        required: true,
        content: Object.fromEntries(
          (route.contentTypes ?? []).map((t) => [t, { schema: { type: 'string', format: 'binary' } }]),
        ),
      };
    } else if (route.body) {
      const types = route.contentTypes ?? ['application/json'];
      operation.requestBody = {
        required: true,
        content: Object.fromEntries(
          types.map((t) => [
            t,
            { schema: t === 'application/json' ? toSchema(route.body!) : { type: 'string' } },
          ]),
        ),
      };
    }
    paths[openapiPath] = { ...paths[openapiPath], [route.method.toLowerCase()]: operation };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'SessionForge Security Services', version: info.version },
    servers: [{ url: '/' }],
    paths,
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'A session token, or an API key (sf_live_…) on org routes',
        },
        sessionCookie: { type: 'apiKey', in: 'cookie', name: '__Host-sf_session' },
        basicApiKey: {
          type: 'http',
          scheme: 'basic',
          description: 'An org API key (sf_live_…) as the password (the asciinema CLI’s install id)',
        },
      },
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['code', 'message'],
              properties: {
                code: { type: 'string', enum: [...errorCodes] },
                message: { type: 'string' },
                requirement: {
                  type: 'string',
                  description: 'What would let the caller in: `mfa`, `personal_session`, `link_identity`',
                },
                ssoUrl: { type: 'string', description: 'SSO_REQUIRED: where to sign in to the org' },
                reason: {
                  type: 'string',
                  enum: ['impossible_travel', 'revoked', 'expired'],
                  description:
                    'With STEP_UP_REQUIRED: the session is held (`impossible_travel`) and may only list its sessions, step up or log out until a second factor or the mailed link lifts the hold. With UNAUTHENTICATED, for a token that was a real session: how it ended (`revoked`, or `expired` by an absolute or idle timeout); absent for a token never issued',
                },
                issues: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: { path: { type: 'string' }, message: { type: 'string' } },
                  },
                },
              },
            },
          },
        },
      },
    },
  };
}

/**
 * The refusals a route's auth declaration adds, documented from the declaration so no route can
 * forget them: org SSO-only policy on org routes, SSO-bound sessions on personal routes.
 */
function authFailures(route: AnyRoute<unknown>): Record<string, string> {
  const refusals: string[] = [];
  if (route.auth.kind === 'org') {
    refusals.push(
      "SSO_REQUIRED (with `ssoUrl`): the org is SSO-only and this session was not started through the org's SSO (API keys of the org are not refused)",
    );
  }
  if (route.auth.kind === 'session' && route.auth.boundSessions !== true) {
    refusals.push(
      'INSUFFICIENT_ROLE (`requirement: "personal_session"`): a session started through an org\'s SSO reaches only that org',
    );
  }
  if (
    (route.auth.kind === 'session' || route.auth.kind === 'org') &&
    !['GET', 'HEAD'].includes(route.method)
  ) {
    refusals.push(
      "ORIGIN_NOT_ALLOWED: the session cookie came with an Origin other than the console's (APP_URL, APP_ORIGINS), or none; Bearer tokens are not checked",
    );
  }
  return refusals.length ? { 403: refusals.join('; ') } : {};
}

function securityOf(route: AnyRoute<unknown>): unknown[] {
  if (route.auth.kind === 'none') return [];
  if (route.auth.kind === 'basic_key') return [{ basicApiKey: [] }];
  if (route.auth.kind === 'scim') return [{ bearer: [] }];
  return [{ bearer: [] }, { sessionCookie: [] }];
}

function toSchema(schema: z.ZodType): unknown {
  const json = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io: 'input',
    unrepresentable: 'any',
  }) as Record<string, unknown>;
  delete json.$schema;
  return json;
}
