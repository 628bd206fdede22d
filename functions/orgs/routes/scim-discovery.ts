import { fail } from '../../../shared/errors/codes.js';
import { defineRoute } from '../../../shared/http/route.js';
import type { Core } from '../../../shared/runtime/core.js';
import { resourceTypes, schemas, serviceProviderConfig } from '../../../shared/scim/discovery.js';
import { listResponse } from '../../../shared/scim/model.js';
import { SCIM_BASE_PATH, scimBaseUrl, scimReply, scimResource, scimRoute } from '../scim.js';

function docsUrl(deps: Core) {
  return `${deps.platform.config.appUrl.replace(/\/$/, '')}/api/openapi.json`;
}

export const scimServiceProviderConfig = defineRoute({
  ...scimRoute,
  method: 'GET',
  path: `${SCIM_BASE_PATH}/ServiceProviderConfig`,
  summary: 'SCIM: what this service provider supports (PATCH and filters yes; bulk, sort, etag no).',
  responses: { 200: { description: 'RFC 7643 §5', schema: scimResource } },
  handler: async (_ctx, deps: Core) =>
    scimReply(200, serviceProviderConfig(scimBaseUrl(deps), docsUrl(deps))),
});

export const scimResourceTypes = defineRoute({
  ...scimRoute,
  method: 'GET',
  path: `${SCIM_BASE_PATH}/ResourceTypes`,
  summary: 'SCIM: the resource types, User and Group.',
  responses: { 200: { description: 'A SCIM ListResponse', schema: scimResource } },
  handler: async (_ctx, deps: Core) => {
    const types = resourceTypes(scimBaseUrl(deps));
    return scimReply(200, listResponse(types, types.length, 1));
  },
});

export const scimResourceType = defineRoute({
  ...scimRoute,
  method: 'GET',
  path: `${SCIM_BASE_PATH}/ResourceTypes/:id`,
  summary: 'SCIM: one resource type.',
  responses: { 200: { description: 'The resource type', schema: scimResource } },
  handler: async ({ params }, deps: Core) => {
    const found = resourceTypes(scimBaseUrl(deps)).find((t) => t.id === params.id);
    return found ? scimReply(200, found) : fail('NOT_FOUND', 'No such resource type.');
  },
});

export const scimSchemas = defineRoute({
  ...scimRoute,
  method: 'GET',
  path: `${SCIM_BASE_PATH}/Schemas`,
  summary: 'SCIM: the User and Group schemas as this service provider implements them.',
  responses: { 200: { description: 'A SCIM ListResponse', schema: scimResource } },
  handler: async (_ctx, deps: Core) => {
    const all = schemas(scimBaseUrl(deps));
    return scimReply(200, listResponse(all, all.length, 1));
  },
});

export const scimSchema = defineRoute({
  ...scimRoute,
  method: 'GET',
  path: `${SCIM_BASE_PATH}/Schemas/:id`,
  summary: 'SCIM: one schema, by its URN.',
  responses: { 200: { description: 'The schema', schema: scimResource } },
  handler: async ({ params }, deps: Core) => {
    const found = schemas(scimBaseUrl(deps)).find((s) => s.id === params.id);
    return found ? scimReply(200, found) : fail('NOT_FOUND', 'No such schema.');
  },
});
