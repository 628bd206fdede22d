import { fail } from '../../../shared/errors/codes.js';
import { defineRoute } from '../../../shared/http/route.js';
import type { Core } from '../../../shared/runtime/core.js';
import {
  groupIdOf,
  groupResource,
  isScimRole,
  listResponse,
  pageOf,
  parseFilter,
  ROLE_OUTSIDE_GROUPS,
  type ScimRole,
  scimRoles,
} from '../../../shared/scim/model.js';
import {
  groupBody,
  listQuery,
  patchBody,
  patchedCopy,
  SCIM_BASE_PATH,
  scimActor,
  scimBaseUrl,
  scimInvalid,
  scimReply,
  scimResource,
  scimRoute,
} from '../scim.js';

const noSuchGroup = () =>
  fail(
    'NOT_FOUND',
    'No such group: the groups are viewer, member and admin (owners are not reachable by SCIM).',
  );

function withoutMembers(excluded: string | undefined): boolean {
  return (excluded ?? '').split(',').some((a) => a.trim().toLowerCase() === 'members');
}

export const listScimGroups = defineRoute({
  ...scimRoute,
  method: 'GET',
  path: `${SCIM_BASE_PATH}/Groups`,
  summary:
    'SCIM: the org\'s roles as Groups — Viewers (viewer), Members (member), Admins (admin). Owners are no group: SCIM never grants or touches the owner role. `filter=displayName eq "…"`; `excludedAttributes=members` leaves the member lists out.',
  query: listQuery,
  responses: { 200: { description: 'A SCIM ListResponse', schema: scimResource } },
  handler: async ({ query, principal, ip }, deps: Core) => {
    const actor = scimActor(principal, ip);
    let ids: ScimRole[] = [...scimRoles];
    if (query.filter !== undefined) {
      const parsed = parseFilter(query.filter, 'Group');
      if (!parsed.ok) return scimInvalid('invalidFilter', parsed.detail);
      const { attribute, value } = parsed.filter;
      const match =
        attribute === 'displayName'
          ? groupIdOf(value)
          : attribute === 'id' && isScimRole(value)
            ? value
            : null;
      ids = match ? [match] : [];
    }
    const page = pageOf(query.startIndex, query.count);
    const slice = ids.slice(page.startIndex - 1, page.startIndex - 1 + page.count);
    const base = scimBaseUrl(deps);
    const resources = [];
    for (const role of slice) {
      const members = withoutMembers(query.excludedAttributes)
        ? null
        : await deps.scimUsers.groupMembers(actor.orgId, role);
      resources.push(groupResource(role, members, base));
    }
    return scimReply(200, listResponse(resources, ids.length, page.startIndex));
  },
});

export const getScimGroup = defineRoute({
  ...scimRoute,
  method: 'GET',
  path: `${SCIM_BASE_PATH}/Groups/:id`,
  summary: 'SCIM: one role as a Group, with its members unless `excludedAttributes=members`.',
  query: listQuery,
  responses: { 200: { description: 'The Group', schema: scimResource } },
  handler: async ({ params, query, principal, ip }, deps: Core) => {
    const actor = scimActor(principal, ip);
    const role = params.id ?? '';
    if (!isScimRole(role)) return noSuchGroup();
    const members = withoutMembers(query.excludedAttributes)
      ? null
      : await deps.scimUsers.groupMembers(actor.orgId, role);
    return scimReply(200, groupResource(role, members, scimBaseUrl(deps)));
  },
});

export const createScimGroup = defineRoute({
  ...scimRoute,
  method: 'POST',
  path: `${SCIM_BASE_PATH}/Groups`,
  summary:
    'SCIM: groups are fixed (the roles); creating one answers 409 `uniqueness` for an existing name (link to it instead) and 403 otherwise.',
  body: groupBody,
  responses: {
    409: { description: 'The group exists: link to it' },
    403: { description: 'Groups are fixed' },
  },
  handler: async ({ body }) => {
    if (body.displayName && groupIdOf(body.displayName)) {
      return fail('CONFLICT', "This group exists; link your identity provider's group to it.", {
        extra: { scimType: 'uniqueness' },
      });
    }
    return fail(
      'INSUFFICIENT_ROLE',
      "Groups are the organization's roles and cannot be created: use Viewers, Members or Admins.",
    );
  },
});

async function changeMembers(
  deps: Core,
  actor: ReturnType<typeof scimActor>,
  role: ScimRole,
  before: Set<string>,
  after: Set<string>,
  now: Date,
) {
  const add = [...after].filter((id) => !before.has(id));
  const remove = [...before].filter((id) => !after.has(id));
  const result = await deps.scimUsers.changeGroup(actor, role, { add, remove }, ROLE_OUTSIDE_GROUPS, now);
  if (!result.ok) return result;
  const members = await deps.scimUsers.groupMembers(actor.orgId, role);
  return scimReply(200, groupResource(role, members, scimBaseUrl(deps)));
}

function memberIds(value: unknown): Set<string> | null {
  if (value === undefined || value === null) return new Set();
  if (!Array.isArray(value)) return null;
  const ids = new Set<string>();
  for (const m of value) {
    const id = (m as { value?: unknown } | null)?.value;
    if (typeof id !== 'string') return null;
    ids.add(id);
  }
  return ids;
}

export const patchScimGroup = defineRoute({
  ...scimRoute,
  method: 'PATCH',
  path: `${SCIM_BASE_PATH}/Groups/:id`,
  summary:
    "SCIM: add or remove a role's members (PatchOp). Adding gives the role; removing leaves the member a viewer (removal never raises). Only the org's members can be moved; an owner anywhere in the change refuses all of it (403). A raise ends the member's sessions in the org.",
  body: patchBody,
  responses: { 200: { description: 'The Group after the change', schema: scimResource } },
  handler: async ({ params, body, principal, ip, now }, deps: Core) => {
    const actor = scimActor(principal, ip);
    const role = params.id ?? '';
    if (!isScimRole(role)) return noSuchGroup();
    const members = await deps.scimUsers.groupMembers(actor.orgId, role);
    const before = groupResource(role, members, scimBaseUrl(deps));
    const patched = patchedCopy(before, body);
    if (!patched.ok) return patched;
    const { after } = patched;
    if (after.displayName !== undefined && after.displayName !== before.displayName) {
      return scimInvalid('mutability', 'Group names are the roles and cannot change.');
    }
    const next = memberIds(after.members);
    if (!next) return scimInvalid('invalidValue', 'members must be a list of {"value": "<user id>"}.');
    return changeMembers(deps, actor, role, new Set(members.map((m) => m.userId)), next, now);
  },
});

export const replaceScimGroup = defineRoute({
  ...scimRoute,
  method: 'PUT',
  path: `${SCIM_BASE_PATH}/Groups/:id`,
  summary:
    "SCIM: set a role's members to the given list: the listed get the role, the others in it become viewers. Owners refuse the change (403).",
  body: groupBody,
  responses: { 200: { description: 'The Group after the change', schema: scimResource } },
  handler: async ({ params, body, principal, ip, now }, deps: Core) => {
    const actor = scimActor(principal, ip);
    const role = params.id ?? '';
    if (!isScimRole(role)) return noSuchGroup();
    // displayName is read-only: a PUT's value is ignored (RFC 7644 §3.5.1), the role stays as named.
    const members = await deps.scimUsers.groupMembers(actor.orgId, role);
    const next = memberIds(body.members);
    if (!next) return scimInvalid('invalidValue', 'members must be a list of {"value": "<user id>"}.');
    return changeMembers(deps, actor, role, new Set(members.map((m) => m.userId)), next, now);
  },
});
