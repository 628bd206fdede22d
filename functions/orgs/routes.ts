import type { AnyRoute } from '../../shared/http/route.js';
import type { Core } from '../../shared/runtime/core.js';
import { createOrg } from './routes/create-org.js';
import { listMembers } from './routes/list-members.js';
import { listOrgs } from './routes/list-orgs.js';

export const orgsRoutes: AnyRoute<Core>[] = [createOrg, listOrgs, listMembers];
