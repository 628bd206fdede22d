import { ScimError, type ScimPatchOperation, scimPatch } from 'scim-patch';
import { z } from 'zod';
import { type Failure, fail } from '../../shared/errors/codes.js';
import { type Principal, requireScimToken } from '../../shared/http/principal.js';
import type { Reply, RouteSpec } from '../../shared/http/route.js';
import type { Core } from '../../shared/runtime/core.js';
import { SCIM, SCIM_MEDIA_TYPE } from '../../shared/scim/model.js';
import type { ScimActor } from '../../shared/scim/users.js';

/** What every SCIM route shares: the token requirement, SCIM's error schema and media types. */
export const scimRoute = {
  tags: ['scim'],
  auth: { kind: 'scim' },
  errorFormat: 'scim',
  contentTypes: [SCIM_MEDIA_TYPE, 'application/json'],
  // A user, a group of a few hundred members or a patch of 100 operations fits easily; more is not a
  // provisioning request.
  bodyLimitBytes: 256 * 1024,
} as const satisfies Partial<RouteSpec<Core>>;

export const SCIM_BASE_PATH = '/api/scim/v2';

export function scimBaseUrl(deps: Core): string {
  return `${deps.platform.config.appUrl.replace(/\/$/, '')}${SCIM_BASE_PATH}`;
}

export function scimReply(status: number, body?: unknown, headers: Record<string, string> = {}): Reply {
  return {
    status,
    body,
    headers:
      body === undefined ? headers : { 'content-type': `${SCIM_MEDIA_TYPE}; charset=utf-8`, ...headers },
  };
}

export function scimActor(principal: Principal | null, ip: string): ScimActor {
  const token = requireScimToken(principal);
  return { tokenId: token.id, orgId: token.orgId, ip };
}

export function scimInvalid(scimType: string, detail: string) {
  return fail('VALIDATION_FAILED', detail, { extra: { scimType } });
}

/** The list query parameters identity providers send (RFC 7644 §3.4.2). */
export const listQuery = z.object({
  filter: z.string().max(2048).optional(),
  startIndex: z.coerce.number().int().optional(),
  count: z.coerce.number().int().optional(),
  attributes: z.string().max(1024).optional(),
  excludedAttributes: z.string().max(1024).optional(),
});

/** A SCIM resource body: known fields checked here, the rest (extensions, name parts) let through. */
export const userBody = z.looseObject({
  schemas: z.array(z.string().max(300)).max(10).optional(),
  userName: z
    .string()
    .trim()
    .min(3)
    .max(254)
    .regex(/^[^\s@\p{Cc}]+@[^\s@\p{Cc}]+$/u, 'must be an email address'),
  externalId: z
    .string()
    .min(1)
    .max(255)
    .regex(/^[^\p{Cc}]+$/u, 'must not contain control characters')
    .nullable()
    .optional(),
  displayName: z.string().max(300).optional(),
  name: z.looseObject({}).optional(),
  active: z.union([z.boolean(), z.enum(['true', 'false', 'True', 'False'])]).optional(),
});

export const patchBody = z.looseObject({
  schemas: z.array(z.string().max(300)).max(10),
  Operations: z
    .array(
      z.looseObject({
        op: z.string().max(16),
        path: z.string().max(1024).optional(),
        value: z.unknown().optional(),
      }),
    )
    .min(1)
    .max(100),
});

export const groupBody = z.looseObject({
  schemas: z.array(z.string().max(300)).max(10).optional(),
  displayName: z.string().max(300).optional(),
  members: z
    .array(z.looseObject({ value: z.string().max(64) }))
    .max(10_000)
    .optional(),
});

/** `formatted`, else given + family name, else displayName: what the account is called when SCIM creates it. */
export function nameOf(body: z.infer<typeof userBody>): string | null {
  const name = body.name as { formatted?: unknown; givenName?: unknown; familyName?: unknown } | undefined;
  if (typeof name?.formatted === 'string' && name.formatted.trim()) return name.formatted.trim();
  const parts = [name?.givenName, name?.familyName].filter(
    (p): p is string => typeof p === 'string' && !!p.trim(),
  );
  if (parts.length) return parts.join(' ');
  return body.displayName?.trim() || null;
}

/**
 * RFC 7644 §3.5.2 PATCH through scim-patch, applied to a copy of the resource as we would answer
 * it: the patched copy (the caller decides what of it may change), or the SCIM 400 saying why not.
 */
export function patchedCopy(
  resource: object,
  body: z.infer<typeof patchBody>,
): { ok: true; after: Record<string, unknown> } | Failure {
  if (!body.schemas.includes(SCIM.patch)) {
    return scimInvalid('invalidSyntax', `A PATCH body names the schema ${SCIM.patch}.`);
  }
  try {
    const after = scimPatch(structuredClone(resource) as never, body.Operations as ScimPatchOperation[], {
      treatMissingAsAdd: true,
    }) as unknown as Record<string, unknown>;
    return { ok: true, after };
  } catch (error) {
    if (error instanceof ScimError)
      return scimInvalid(error.scimCode ?? 'invalidValue', error.message.slice(0, 300));
    throw error;
  }
}

/** What the OpenAPI document says of a SCIM answer: a SCIM resource or message, named by its schemas. */
export const scimResource = z.looseObject({ schemas: z.array(z.string()) });
