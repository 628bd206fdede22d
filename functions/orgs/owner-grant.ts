import type { Failure } from '../../shared/errors/codes.js';
import { steppedUpFor, stepUpRequired, sudoOf } from '../../shared/http/auth.js';
import { requireSession } from '../../shared/http/principal.js';
import type { RouteContext } from '../../shared/http/route.js';
import type { OrgRole } from '../../shared/orgs/model.js';

/**
 * Making someone an owner (role change or invitation) transfers ownership, which SECURITY.md puts
 * behind step-up. Only owners get this far: an admin is refused by the role rule (INSUFFICIENT_ROLE).
 */
export function ownerGrantNeedsStepUp(
  ctx: Pick<RouteContext<unknown, unknown>, 'principal' | 'org' | 'now'>,
  role: OrgRole | undefined,
): Failure | null {
  if (role !== 'owner' || ctx.org?.role !== 'owner') return null;
  const { session } = requireSession(ctx.principal);
  if (steppedUpFor(sudoOf(session), ctx.org, ctx.now)) return null;
  return stepUpRequired(
    ctx.org.passkeyPolicy,
    'Granting the owner role transfers ownership: confirm your identity (step-up) first.',
  );
}
