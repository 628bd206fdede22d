import type { OrgAccess } from './principal.js';
import type { AuthRequirement, Role } from './route.js';

/**
 * The one guard every org route states: a member of the route's org (or, unless
 * `apiKeys: false`, an API key of that org) with at least `minRole`. Below it → 403
 * INSUFFICIENT_ROLE; not a member → 404 NOT_FOUND (shared/http/auth.ts).
 */
export function requireOrgRole(
  minRole: Role,
  options: { stepUp?: boolean; apiKeys?: boolean } = {},
): Extract<AuthRequirement, { kind: 'org' }> {
  return { kind: 'org', minRole, ...options };
}

/** The org a request acts in, on a route whose requirement is `org` (the router guarantees it). */
export function requireOrg(org: OrgAccess | null): OrgAccess {
  if (!org) throw new Error('this route requires an org requirement');
  return org;
}
