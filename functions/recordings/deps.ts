import type { OrgAccess, Principal } from '../../shared/http/principal.js';
import type { RecordingCaller } from '../../shared/recordings/model.js';
import type { Actor } from '../../shared/recordings/service.js';
import type { RecordingsDeps } from '../../shared/runtime/recordings.js';

export type Deps = RecordingsDeps;

/** Who acts, for the audit log: the signed-in user or the org's API key. */
export function actorOf(principal: Principal | null): Actor {
  if (principal?.type === 'api_key') return { type: 'api_key', id: principal.key.id };
  if (principal?.type === 'session') return { type: 'user', id: principal.user.id };
  throw new Error('an org route always has a principal');
}

/** Who acts and with which role in the recording's org: what recording ownership is judged on. */
export function callerOf(
  principal: Principal | null,
  org: OrgAccess | null,
): RecordingCaller & { actor: Actor } {
  if (!org) throw new Error('an org route always has an org');
  return { actor: actorOf(principal), role: org.role };
}

/** For routes addressed by recording id: the recording's org (null → 404 before any role check). */
export const recordingOrg = (params: Record<string, string>, deps: Deps) =>
  deps.recordings.orgOf(params.id ?? '');
