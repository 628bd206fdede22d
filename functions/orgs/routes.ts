import type { AnyRoute } from '../../shared/http/route.js';
import type { Core } from '../../shared/runtime/core.js';
import { acceptInvitation } from './routes/accept-invitation.js';
import { changeMember } from './routes/change-member.js';
import { createOrg } from './routes/create-org.js';
import { deleteOrg, restoreOrg } from './routes/delete-org.js';
import { listInvitations, withdrawInvitation } from './routes/invitations.js';
import { invite } from './routes/invite.js';
import { leaveOrg } from './routes/leave.js';
import { listMembers } from './routes/list-members.js';
import { listOrgs } from './routes/list-orgs.js';
import { listOrgSessions, revokeOrgSession } from './routes/org-sessions.js';
import { getPolicy, updatePolicy } from './routes/policy.js';
import { removeMember } from './routes/remove-member.js';
import {
  scimResourceType,
  scimResourceTypes,
  scimSchema,
  scimSchemas,
  scimServiceProviderConfig,
} from './routes/scim-discovery.js';
import {
  createScimGroup,
  getScimGroup,
  listScimGroups,
  patchScimGroup,
  replaceScimGroup,
} from './routes/scim-groups.js';
import { createScimToken, listScimTokens, revokeScimToken } from './routes/scim-tokens.js';
import {
  createScimUser,
  deleteScimUser,
  getScimUser,
  listScimUsers,
  patchScimUser,
  replaceScimUser,
} from './routes/scim-users.js';

export const orgsRoutes: AnyRoute<Core>[] = [
  createOrg,
  listOrgs,
  acceptInvitation,
  listMembers,
  invite,
  listInvitations,
  withdrawInvitation,
  changeMember,
  removeMember,
  leaveOrg,
  getPolicy,
  updatePolicy,
  listOrgSessions,
  revokeOrgSession,
  deleteOrg,
  restoreOrg,
  createScimToken,
  listScimTokens,
  revokeScimToken,
  scimServiceProviderConfig,
  scimResourceTypes,
  scimResourceType,
  scimSchemas,
  scimSchema,
  listScimUsers,
  createScimUser,
  getScimUser,
  replaceScimUser,
  patchScimUser,
  deleteScimUser,
  listScimGroups,
  createScimGroup,
  getScimGroup,
  patchScimGroup,
  replaceScimGroup,
];
