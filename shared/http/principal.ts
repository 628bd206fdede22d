import type { PasskeyPolicy } from '../passkeys/model.js';
import type { SessionWithUser } from '../sessions/store.js';
import type { Role } from './route.js';

/** The org a request acts in, and the caller's role there. */
export interface OrgAccess {
  orgId: string;
  role: Role;
  /** Set when the org requires passkeys: its step-up routes accept only a passkey's sudo window. */
  passkeyPolicy?: PasskeyPolicy;
}

export interface ApiKeyIdentity {
  id: string;
  orgId: string;
  role: Role;
  name: string;
}

/** An org's SCIM token: its identity provider provisioning members (SCIM routes only). */
export interface ScimTokenIdentity {
  id: string;
  orgId: string;
  name: string;
}

/** Who is calling: a signed-in user's session, an org's API key (org routes only) or SCIM token. */
export type Principal =
  | ({ type: 'session' } & SessionWithUser)
  | { type: 'api_key'; key: ApiKeyIdentity }
  | { type: 'scim_token'; token: ScimTokenIdentity };

/** The SCIM token on a route whose requirement is `scim` (the router guarantees it). */
export function requireScimToken(principal: Principal | null): ScimTokenIdentity {
  if (principal?.type !== 'scim_token') throw new Error('this route requires a SCIM token');
  return principal.token;
}

/** The caller's session on a route whose requirement admits only sessions (the router guarantees it). */
export function requireSession(principal: Principal | null): SessionWithUser {
  if (principal?.type !== 'session') throw new Error('this route requires a session principal');
  return principal;
}
