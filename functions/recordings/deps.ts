import type { AuthenticatorParts } from '../../shared/http/auth.js';
import type { Principal } from '../../shared/http/principal.js';
import type { Actor } from '../../shared/recordings/service.js';
import type { RecordingsDeps } from '../../shared/runtime/recordings.js';

/** `keyAuth`: for the asciinema upload, which carries its API key as an HTTP Basic password. */
export type Deps = RecordingsDeps & { keyAuth: Pick<AuthenticatorParts, 'apiKeys' | 'network'> };

/** Who acts, for the audit log: the signed-in user or the org's API key. */
export function actorOf(principal: Principal | null): Actor {
  if (principal?.type === 'api_key') return { type: 'api_key', id: principal.key.id };
  if (principal?.type === 'session') return { type: 'user', id: principal.user.id };
  throw new Error('an org route always has a principal');
}

/** For routes addressed by recording id: the recording's org (null → 404 before any role check). */
export const recordingOrg = (params: Record<string, string>, deps: Deps) =>
  deps.recordings.orgOf(params.id ?? '');
