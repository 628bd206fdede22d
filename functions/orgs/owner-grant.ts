import { type Failure, fail } from '../../shared/errors/codes.js';
import { requireSession } from '../../shared/http/principal.js';
import type { RouteContext } from '../../shared/http/route.js';
import type { OrgRole } from '../../shared/orgs/model.js';
import { inSudo } from '../../shared/sessions/model.js';

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
  if (inSudo(session.sudo_until, ctx.now)) return null;
  return fail(
    'STEP_UP_REQUIRED',
    'Granting the owner role transfers ownership: confirm your identity (step-up) first.',
  );
}
