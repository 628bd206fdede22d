import { requireSession } from '../../../shared/http/principal.js';
import { defineRoute, json } from '../../../shared/http/route.js';
import type { Core } from '../../../shared/runtime/core.js';

export const mfaDisable = defineRoute({
  method: 'DELETE',
  path: '/api/mfa/totp',
  summary: 'Turn MFA off (needs step-up): the secret and every backup code are deleted.',
  tags: ['mfa'],
  auth: { kind: 'session', stepUp: true },
  responses: {
    204: { description: 'MFA is off' },
    403: { description: 'Outside the step-up window (STEP_UP_REQUIRED)' },
    409: { description: 'MFA is not on (CONFLICT)' },
  },
  handler: async ({ principal, ip, now }, deps: Core) => {
    const { user } = requireSession(principal);
    const result = await deps.mfa.disable(user.id, { ip, now });
    return result.ok ? json(204) : result;
  },
});
