import { z } from 'zod';
import { fail } from '../../../shared/errors/codes.js';
import { requireSession } from '../../../shared/http/principal.js';
import { defineRoute, json } from '../../../shared/http/route.js';
import { isId } from '../../../shared/orgs/model.js';
import { passkeyNameSchema } from '../../../shared/passkeys/model.js';
import { toPasskeyView } from '../../../shared/passkeys/store.js';
import { registrationResponseSchema } from '../../../shared/passkeys/wire.js';
import type { Core } from '../../../shared/runtime/core.js';

const passkeyView = z.object({
  id: z.string(),
  name: z.string(),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
  backedUp: z.boolean(),
});

/** WebAuthn options JSON as navigator.credentials.create()/get() take it (via @simplewebauthn/browser). */
export const webauthnOptions = z.looseObject({ challenge: z.string(), timeout: z.number().optional() });

export const passkeyRegisterOptions = defineRoute({
  method: 'POST',
  path: '/api/passkeys/register/options',
  summary:
    'Start registering a passkey: creation options (resident key and user verification required, your existing passkeys excluded, no attestation). The challenge is bound to this session, single use, 5 minutes. Needs a step-up: whoever holds a session must not add their own key to the account.',
  tags: ['passkeys'],
  auth: { kind: 'session', stepUp: true },
  responses: {
    200: { description: 'PublicKeyCredentialCreationOptionsJSON', schema: webauthnOptions },
    403: { description: 'STEP_UP_REQUIRED' },
  },
  handler: async ({ principal, now }, deps: Core) => {
    const { session, user } = requireSession(principal);
    return json(200, await deps.passkeys.registrationOptions(session, user, now));
  },
});

export const passkeyRegisterVerify = defineRoute({
  method: 'POST',
  path: '/api/passkeys/register/verify',
  summary:
    "Finish registering: the authenticator's response to the options of this session. Checks challenge, origin, RP ID, user verification; stores the credential id, public key, counter, transports, backup flags and AAGUID. Audited as passkey.registered.",
  tags: ['passkeys'],
  auth: { kind: 'session', stepUp: true },
  body: z.strictObject({ response: registrationResponseSchema, name: passkeyNameSchema.optional() }),
  responses: {
    201: { description: 'The new passkey', schema: passkeyView },
    400: { description: 'VALIDATION_FAILED: a stale or foreign challenge, or a response the checks refused' },
    403: { description: 'STEP_UP_REQUIRED' },
    409: { description: 'CONFLICT: this authenticator is registered already' },
  },
  handler: async ({ principal, body, ip, now }, deps: Core) => {
    const { session, user } = requireSession(principal);
    const result = await deps.passkeys.register(session, user.id, body, { ip, now });
    return result.ok ? json(201, toPasskeyView(result.passkey)) : result;
  },
});

export const listPasskeys = defineRoute({
  method: 'GET',
  path: '/api/passkeys',
  summary: 'Your passkeys, oldest first.',
  tags: ['passkeys'],
  auth: { kind: 'session' },
  responses: { 200: { description: 'Passkeys', schema: z.object({ passkeys: z.array(passkeyView) }) } },
  handler: async ({ principal }, deps: Core) => {
    const { user } = requireSession(principal);
    return json(200, { passkeys: (await deps.passkeys.list(user.id)).map(toPasskeyView) });
  },
});

export const renamePasskey = defineRoute({
  method: 'PATCH',
  path: '/api/passkeys/:id',
  summary: "Rename one of your passkeys. Another user's passkey answers 404. Audited as passkey.renamed.",
  tags: ['passkeys'],
  auth: { kind: 'session' },
  body: z.strictObject({ name: passkeyNameSchema }),
  responses: { 200: { description: 'The renamed passkey', schema: passkeyView } },
  handler: async ({ principal, params, body, ip, now }, deps: Core) => {
    const { user } = requireSession(principal);
    const id = params.id ?? '';
    if (!isId(id)) return fail('NOT_FOUND');
    const result = await deps.passkeys.rename(user.id, id, body.name, { ip, now });
    return result.ok ? json(200, toPasskeyView(result.passkey)) : result;
  },
});

export const removePasskey = defineRoute({
  method: 'DELETE',
  path: '/api/passkeys/:id',
  summary:
    "Remove one of your passkeys (step-up). Another user's passkey answers 404; your last passkey while an org of yours requires passkeys answers 409. Audited as passkey.removed.",
  tags: ['passkeys'],
  auth: { kind: 'session', stepUp: true },
  responses: {
    204: { description: 'Removed' },
    403: { description: 'STEP_UP_REQUIRED' },
    409: { description: 'CONFLICT with `orgs` (slugs): the last passkey while those orgs require one' },
  },
  handler: async ({ principal, params, ip, now }, deps: Core) => {
    const { user } = requireSession(principal);
    const id = params.id ?? '';
    if (!isId(id)) return fail('NOT_FOUND');
    const result = await deps.passkeys.remove(user.id, id, { ip, now });
    return result.ok ? json(204) : result;
  },
});
