import { normalizeEmail } from '../../../shared/accounts/email.js';
import { fail } from '../../../shared/errors/codes.js';
import { defineRoute } from '../../../shared/http/route.js';
import type { Core } from '../../../shared/runtime/core.js';
import {
  activeValue,
  listResponse,
  pageOf,
  parseFilter,
  type ScimPerson,
  userResource,
} from '../../../shared/scim/model.js';
import {
  listQuery,
  nameOf,
  patchBody,
  patchedCopy,
  SCIM_BASE_PATH,
  scimActor,
  scimBaseUrl,
  scimInvalid,
  scimReply,
  scimResource,
  scimRoute,
  userBody,
} from '../scim.js';

const noSuchUser = () => fail('NOT_FOUND', 'No such user in this organization.');

export const listScimUsers = defineRoute({
  ...scimRoute,
  method: 'GET',
  path: `${SCIM_BASE_PATH}/Users`,
  summary:
    'SCIM: the org\'s Users (its members, and those SCIM suspended or invited), in pages (`startIndex`, `count` ≤ 200); `filter` supports `userName eq "…"`, `externalId eq "…"` and `id eq "…"`.',
  query: listQuery,
  responses: { 200: { description: 'A SCIM ListResponse', schema: scimResource } },
  handler: async ({ query, principal, ip }, deps: Core) => {
    const actor = scimActor(principal, ip);
    let filter = null;
    if (query.filter !== undefined) {
      const parsed = parseFilter(query.filter, 'User');
      if (!parsed.ok) return scimInvalid('invalidFilter', parsed.detail);
      filter = parsed.filter;
    }
    const page = pageOf(query.startIndex, query.count);
    const { total, people } = await deps.scimUsers.list(actor.orgId, filter, page);
    const base = scimBaseUrl(deps);
    return scimReply(
      200,
      listResponse(
        people.map((p) => userResource(p, base)),
        total,
        page.startIndex,
      ),
    );
  },
});

export const getScimUser = defineRoute({
  ...scimRoute,
  method: 'GET',
  path: `${SCIM_BASE_PATH}/Users/:id`,
  summary: "SCIM: one User of the org; another org's people and unknown ids answer 404.",
  responses: { 200: { description: 'The User', schema: scimResource } },
  handler: async ({ params, principal, ip }, deps: Core) => {
    const actor = scimActor(principal, ip);
    const person = await deps.scimUsers.get(actor.orgId, params.id ?? '');
    return person ? scimReply(200, userResource(person, scimBaseUrl(deps))) : noSuchUser();
  },
});

export const createScimUser = defineRoute({
  ...scimRoute,
  method: 'POST',
  path: `${SCIM_BASE_PATH}/Users`,
  summary:
    "SCIM: provision a person. A new address gets a password-less account (it signs in through the org's SSO) and a membership; an existing account is attached only when the org verified its domain, otherwise it gets an invitation (`active: false` until the person accepts). 409 `uniqueness` when the userName is already a User.",
  body: userBody,
  responses: {
    201: { description: 'The new User', schema: scimResource },
    409: { description: 'SCIM uniqueness: already a User of this org, or the externalId is taken' },
  },
  handler: async ({ body, principal, ip, now }, deps: Core) => {
    const actor = scimActor(principal, ip);
    const result = await deps.scimUsers.create(
      actor,
      {
        email: body.userName,
        name: nameOf(body),
        externalId: body.externalId ?? null,
        active: activeValue(body.active ?? true) ?? true,
      },
      now,
    );
    if (!result.ok) return result;
    const resource = userResource(result.person, scimBaseUrl(deps));
    return scimReply(201, resource, { location: resource.meta.location });
  },
});

/** What a PUT or PATCH may change; anything the account's owner keeps (address, name) is theirs. */
function changesOf(
  before: ReturnType<typeof userResource>,
  after: Record<string, unknown>,
): { ok: true; change: { externalId?: string | null; active?: boolean } } | ReturnType<typeof scimInvalid> {
  if (
    typeof after.userName !== 'string' ||
    normalizeEmail(after.userName) !== normalizeEmail(before.userName)
  ) {
    return scimInvalid(
      'mutability',
      "userName is the account's email address; the person changes it in their account, not SCIM.",
    );
  }
  const change: { externalId?: string | null; active?: boolean } = {};
  const externalId = after.externalId ?? null;
  if (
    externalId !== null &&
    (typeof externalId !== 'string' ||
      externalId.length < 1 ||
      externalId.length > 255 ||
      /\p{Cc}/u.test(externalId))
  ) {
    return scimInvalid('invalidValue', 'externalId must be a string of 1 to 255 characters.');
  }
  if (externalId !== (before.externalId ?? null)) change.externalId = externalId;
  if (after.active !== undefined) {
    const active = activeValue(after.active);
    if (active === null) return scimInvalid('invalidValue', 'active must be true or false.');
    // Passed on even when it looks unchanged: an invited User shows inactive, and `false` is what
    // withdraws the invitation (`true` sends a new one if it was withdrawn).
    change.active = active;
  }
  return { ok: true, change };
}

async function applyChange(
  deps: Core,
  actor: ReturnType<typeof scimActor>,
  person: ScimPerson,
  after: Record<string, unknown>,
  now: Date,
) {
  const base = scimBaseUrl(deps);
  const checked = changesOf(userResource(person, base), after);
  if (!checked.ok) return checked;
  const result = await deps.scimUsers.update(actor, person.userId, checked.change, now);
  return result.ok ? scimReply(200, userResource(result.person, base)) : result;
}

export const replaceScimUser = defineRoute({
  ...scimRoute,
  method: 'PUT',
  path: `${SCIM_BASE_PATH}/Users/:id`,
  summary:
    "SCIM: replace a User. `active: false` suspends the membership and ends its sessions at once; `true` restores it. `externalId` is replaced (absent clears it); userName cannot change (400 `mutability`); name and emails stay the account's. Owners: 403.",
  body: userBody,
  responses: { 200: { description: 'The User after the change', schema: scimResource } },
  handler: async ({ params, body, principal, ip, now }, deps: Core) => {
    const actor = scimActor(principal, ip);
    const person = await deps.scimUsers.get(actor.orgId, params.id ?? '');
    if (!person) return noSuchUser();
    return applyChange(deps, actor, person, { ...body, externalId: body.externalId ?? null }, now);
  },
});

export const patchScimUser = defineRoute({
  ...scimRoute,
  method: 'PATCH',
  path: `${SCIM_BASE_PATH}/Users/:id`,
  summary:
    'SCIM: PatchOp on a User (RFC 7644 §3.5.2; Entra ID\'s "Replace" and "False" are understood). Changes to `active` and `externalId` apply; name and emails stay the account\'s; userName and groups answer 400 `mutability` (roles change through /Groups). Owners: 403.',
  body: patchBody,
  responses: { 200: { description: 'The User after the change', schema: scimResource } },
  handler: async ({ params, body, principal, ip, now }, deps: Core) => {
    const actor = scimActor(principal, ip);
    const person = await deps.scimUsers.get(actor.orgId, params.id ?? '');
    if (!person) return noSuchUser();
    const before = userResource(person, scimBaseUrl(deps));
    const patched = patchedCopy(before, body);
    if (!patched.ok) return patched;
    const { after } = patched;
    if (JSON.stringify(after.groups ?? []) !== JSON.stringify(before.groups)) {
      return scimInvalid('mutability', "A user's groups are its role: change them through /Groups.");
    }
    return applyChange(deps, actor, person, after, now);
  },
});

export const deleteScimUser = defineRoute({
  ...scimRoute,
  method: 'DELETE',
  path: `${SCIM_BASE_PATH}/Users/:id`,
  summary:
    "SCIM: deprovision a User: the membership ends and its sessions in the org end at once (one transaction); the User is gone (404 after). The account itself stays the person's. Owners: 403.",
  responses: { 204: { description: 'Deprovisioned' } },
  handler: async ({ params, principal, ip, now }, deps: Core) => {
    const actor = scimActor(principal, ip);
    const result = await deps.scimUsers.remove(actor, params.id ?? '', now);
    return result.ok ? scimReply(204) : result;
  },
});
