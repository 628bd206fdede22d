import { requireOrg } from '../../shared/http/org-guard.js';
import { requireSession } from '../../shared/http/principal.js';
import type { RouteContext } from '../../shared/http/route.js';
import type { OrgActor } from '../../shared/orgs/invitations.js';

/** The signed-in member acting on a route that admits sessions only (`apiKeys: false`). */
export function memberActor(
  ctx: Pick<RouteContext<unknown, unknown>, 'principal' | 'org' | 'ip'>,
): OrgActor & {
  orgId: string;
} {
  const { user } = requireSession(ctx.principal);
  const org = requireOrg(ctx.org);
  return { orgId: org.orgId, userId: user.id, role: org.role, ip: ctx.ip };
}
