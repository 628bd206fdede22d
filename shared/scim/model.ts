import type { OrgRole } from '../orgs/model.js';

/** RFC 7643/7644 URNs this service speaks. */
export const SCIM = {
  user: 'urn:ietf:params:scim:schemas:core:2.0:User',
  group: 'urn:ietf:params:scim:schemas:core:2.0:Group',
  list: 'urn:ietf:params:scim:api:messages:2.0:ListResponse',
  patch: 'urn:ietf:params:scim:api:messages:2.0:PatchOp',
  error: 'urn:ietf:params:scim:api:messages:2.0:Error',
  serviceProviderConfig: 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig',
  resourceType: 'urn:ietf:params:scim:schemas:core:2.0:ResourceType',
  schema: 'urn:ietf:params:scim:schemas:core:2.0:Schema',
} as const;

export const SCIM_MEDIA_TYPE = 'application/scim+json';

/**
 * The roles SCIM groups stand for. `owner` is not among them: an owner is granted, changed and
 * removed only by an owner in the console, so a SCIM token (or whoever holds a leaked one, or the
 * IdP's own admin) can neither make an owner nor touch one.
 */
export const scimRoles = ['viewer', 'member', 'admin'] as const satisfies readonly OrgRole[];
export type ScimRole = (typeof scimRoles)[number];

export function isScimRole(value: string): value is ScimRole {
  return (scimRoles as readonly string[]).includes(value);
}

/** The role a person keeps when taken out of their group: the lowest, so removal never raises. */
export const ROLE_OUTSIDE_GROUPS: ScimRole = 'viewer';
/** The role of a person SCIM provisions (groups change it later). */
export const PROVISIONED_ROLE: ScimRole = 'member';

export const groupDisplayNames: Record<ScimRole, string> = {
  viewer: 'Viewers',
  member: 'Members',
  admin: 'Admins',
};

/** Group id for a display name, case-insensitively ("admins", "Admins", "admin"). */
export function groupIdOf(displayName: string): ScimRole | null {
  const wanted = displayName.trim().toLowerCase();
  for (const role of scimRoles) {
    if (role === wanted || groupDisplayNames[role].toLowerCase() === wanted) return role;
  }
  return null;
}

export type ScimFilter = { attribute: 'userName' | 'externalId' | 'displayName' | 'id'; value: string };

export type FilterParse = { ok: true; filter: ScimFilter } | { ok: false; detail: string };

/** Longest filter read at all: the two we support are an attribute, `eq` and one quoted value. */
const MAX_FILTER_LENGTH = 1024;
const FILTER = /^\s*([A-Za-z][A-Za-z0-9:._-]*)\s+([A-Za-z]{2})\s+"((?:[^"\\\p{Cc}]|\\.)*)"\s*$/u;

/**
 * The filters identity providers send to find one resource (RFC 7644 §3.4.2.2): `userName eq
 * "…"` and `externalId eq "…"` on Users, `displayName eq "…"` on Groups, `id eq` on both. The
 * grammar is matched whole, the value is a JSON string (its escapes decoded by JSON.parse), and
 * anything else answers invalidFilter: no expression reaches the database except as a bound value.
 */
export function parseFilter(text: string, resource: 'User' | 'Group'): FilterParse {
  if (text.length > MAX_FILTER_LENGTH) return { ok: false, detail: 'The filter is too long.' };
  const match = FILTER.exec(text);
  if (!match) {
    return {
      ok: false,
      detail: `Only filters of the form attribute eq "value" are supported, e.g. ${resource === 'User' ? 'userName eq "ann@example.com"' : 'displayName eq "Admins"'}.`,
    };
  }
  const [, rawAttribute = '', operator = '', rawValue = ''] = match;
  if (operator.toLowerCase() !== 'eq') {
    return { ok: false, detail: `The operator "${operator}" is not supported; use eq.` };
  }
  // Attribute names are case-insensitive; a schema URN prefix names the core schema's attribute.
  const bare = rawAttribute.replace(/^urn:ietf:params:scim:schemas:core:2\.0:(User|Group):/i, '');
  const allowed =
    resource === 'User' ? ['userName', 'externalId', 'id'] : ['displayName', 'externalId', 'id'];
  const attribute = allowed.find((a) => a.toLowerCase() === bare.toLowerCase());
  if (!attribute) {
    return {
      ok: false,
      detail: `Filtering on "${rawAttribute}" is not supported; use ${allowed.join(', ')}.`,
    };
  }
  let value: string;
  try {
    value = JSON.parse(`"${rawValue}"`) as string;
  } catch {
    return { ok: false, detail: 'The filter value is not a valid string.' };
  }
  // The database refuses NUL in text; no stored name or address contains one anyway.
  if (value.includes('\u0000')) return { ok: false, detail: 'The filter value contains a NUL character.' };
  return { ok: true, filter: { attribute: attribute as ScimFilter['attribute'], value } };
}

/** RFC 7644 §3.4.2.4: startIndex below 1 counts as 1; count below 0 as 0; ours is at most 200. */
export const MAX_PAGE_SIZE = 200;
export const DEFAULT_PAGE_SIZE = 100;

export function pageOf(startIndex: number | undefined, count: number | undefined) {
  return {
    startIndex: Math.max(1, Math.trunc(startIndex ?? 1)),
    count: Math.min(MAX_PAGE_SIZE, Math.max(0, Math.trunc(count ?? DEFAULT_PAGE_SIZE))),
  };
}

/**
 * `active` as identity providers send it: Entra ID sends the strings "True"/"False" in PATCH
 * operations, everyone else JSON booleans. Null for anything else.
 */
export function activeValue(value: unknown): boolean | null {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    const lower = value.trim().toLowerCase();
    if (lower === 'true') return true;
    if (lower === 'false') return false;
  }
  return null;
}

/** A SCIM User as this org sees a person (the org's view; never another org's data). */
export interface ScimPerson {
  userId: string;
  email: string;
  name: string;
  externalId: string | null;
  /** Their role while a member; the role waiting for re-activation while suspended. */
  role: OrgRole | null;
  state: 'member' | 'suspended' | 'invited';
  createdAt: Date;
  updatedAt: Date;
}

export function userResource(person: ScimPerson, baseUrl: string) {
  const location = `${baseUrl}/Users/${person.userId}`;
  return {
    schemas: [SCIM.user],
    id: person.userId,
    ...(person.externalId !== null ? { externalId: person.externalId } : {}),
    userName: person.email,
    name: { formatted: person.name },
    displayName: person.name,
    emails: [{ value: person.email, type: 'work', primary: true }],
    active: person.state === 'member',
    groups:
      person.state === 'member' && person.role
        ? [
            // An owner's role shows, but as no group SCIM can address (no $ref: /Groups/owner is 404).
            person.role === 'owner'
              ? { value: 'owner', display: 'Owners', type: 'direct' }
              : {
                  value: person.role,
                  display: groupDisplayNames[person.role as ScimRole],
                  $ref: `${baseUrl}/Groups/${person.role}`,
                  type: 'direct',
                },
          ]
        : [],
    meta: {
      resourceType: 'User',
      created: person.createdAt.toISOString(),
      lastModified: person.updatedAt.toISOString(),
      location,
    },
  };
}

export function groupResource(
  role: ScimRole,
  members: { userId: string; email: string }[] | null,
  baseUrl: string,
) {
  return {
    schemas: [SCIM.group],
    id: role,
    displayName: groupDisplayNames[role],
    ...(members
      ? {
          members: members.map((m) => ({
            value: m.userId,
            display: m.email,
            $ref: `${baseUrl}/Users/${m.userId}`,
            type: 'User',
          })),
        }
      : {}),
    meta: { resourceType: 'Group', location: `${baseUrl}/Groups/${role}` },
  };
}

export function listResponse(resources: unknown[], totalResults: number, startIndex: number) {
  return {
    schemas: [SCIM.list],
    totalResults,
    startIndex,
    itemsPerPage: resources.length,
    Resources: resources,
  };
}
