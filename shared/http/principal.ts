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

/** Who is calling: a signed-in user's session, or an org's API key (org routes only). */
export type Principal = ({ type: 'session' } & SessionWithUser) | { type: 'api_key'; key: ApiKeyIdentity };

/** The caller's session on a route whose requirement admits only sessions (the router guarantees it). */
export function requireSession(principal: Principal | null): SessionWithUser {
  if (principal?.type !== 'session') throw new Error('this route requires a session principal');
  return principal;
}
