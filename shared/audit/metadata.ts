import { z } from 'zod';
import type { AccountAction, OrgAction } from './actions.js';

/**
 * Metadata is hashed as RFC 8785 JSON and stored as jsonb, so it must be plain JSON that survives
 * the round trip unchanged: finite numbers, no NUL characters (jsonb refuses them), bounded depth.
 */
const jsonString = z.string().refine((s) => !s.includes('\u0000'), 'must not contain NUL characters');
type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export const jsonValue: z.ZodType<Json> = z.lazy(() =>
  z.union([
    jsonString,
    z.number(),
    z.boolean(),
    z.null(),
    z.array(jsonValue),
    z.record(jsonString, jsonValue),
  ]),
);

/**
 * Audit rows are hash-chained and append-only, so nothing written into them can be erased when a
 * person deletes their account: metadata names people and invitations by id, never by address.
 * Any key that speaks of an email, at any depth, is refused for every action.
 */
const PERSONAL_KEY = /e-?mail/i;
export function personalDataPath(value: unknown, path: string[] = []): string | null {
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = personalDataPath(item, [...path, String(i)]);
      if (found) return found;
    }
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (PERSONAL_KEY.test(key)) return [...path, key].join('.');
      const found = personalDataPath(item, [...path, key]);
      if (found) return found;
    }
  }
  return null;
}

/** Known fields are typed; extra fields stay allowed so a producer can add context without a release. */
const fields = (shape: z.ZodRawShape) =>
  z
    .looseObject(shape)
    .catchall(jsonValue)
    .superRefine((metadata, ctx) => {
      const path = personalDataPath(metadata);
      if (path)
        ctx.addIssue({ code: 'custom', message: `${path}: audit metadata holds ids, never email addresses` });
    });
const any = fields({});
const roleName = z.enum(['viewer', 'member', 'admin', 'owner']);

/** Per-action metadata: the closed action list's second half (API.md "audit"). */
export const orgMetadataSchemas: Record<OrgAction, z.ZodType> = {
  // The invitation (the row's target) holds the address while it lives; the row keeps only its id.
  'member.invited': fields({ role: roleName.optional() }),
  'member.joined': fields({
    role: roleName.optional(),
    // Accepting an invitation swaps the joiner's session: which one ended, which one replaced it.
    sessionId: z.string().optional(),
    previousSessionId: z.string().optional(),
  }),
  'member.removed': any,
  'invitation.revoked': fields({ role: roleName.optional() }),
  'member.role_changed': fields({
    from: roleName.optional(),
    to: roleName.optional(),
    // Sessions a raise ended (0 otherwise); absent on rows written before raises ended sessions.
    sessionsRevoked: z.number().int().nonnegative().optional(),
  }),
  'session.started': fields({ machineId: z.string().optional() }),
  /** The recordings sweep writes `reason: 'idle'` and the last frame (or start) it went by. */
  'session.stopped': fields({
    durationSeconds: z.number().nonnegative().optional(),
    reason: z.string().optional(),
    lastActivityAt: z.iso.datetime({ offset: true }).optional(),
    /** An admin or owner stopped a recording someone else started. */
    byAdmin: z.boolean().optional(),
  }),
  /** A caller who neither started the recording nor is admin+ tried to feed or stop it. */
  'recording.frames_refused': fields({ role: roleName }),
  'recording.stop_refused': fields({ role: roleName }),
  'recording.archived': fields({
    sizeBytes: z.number().int().nonnegative(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
  }),
  'machine.added': fields({ hostname: z.string().optional() }),
  'machine.deleted': fields({ hostname: z.string().optional() }),
  'sso.login': fields({ provider: z.string().optional() }),
  'sso.fallback': fields({ reason: z.string().optional() }),
  'api_key.created': fields({ role: roleName.optional(), name: z.string().optional() }),
  'api_key.deleted': any,
  'plan.changed': fields({ from: z.string().optional(), to: z.string().optional() }),
  'ip_allowlist.updated': fields({ before: z.array(jsonValue), after: z.array(jsonValue) }),
  'policy.updated': any,
  'auth_session.revoked': fields({ reason: z.string().optional() }),
  'backup.verified': any,
  'backup.missing': any,
  /** Who got a playback link, and until when it works (the link itself is a bearer secret: never stored). */
  'recording.playback_issued': fields({ expiresAt: z.iso.datetime({ offset: true }).optional() }),
  /** What stopped at once (ids only) and when the purge becomes due. */
  'org.deletion_requested': fields({
    purgeAfter: z.iso.datetime({ offset: true }),
    sessionsRevoked: z.number().int().nonnegative(),
    sessionsCutOff: z.number().int().nonnegative(),
    stopped: z.record(z.string(), z.array(z.string())),
  }),
  'org.restored': any,
  'backup.restore_drill_passed': any,
  'backup.restore_drill_failed': any,
  /** The token's display prefix only (the token itself is never stored). */
  'scim.token_created': fields({ prefix: z.string() }),
  'scim.token_revoked': fields({ prefix: z.string() }),
  /**
   * SCIM changes: the actor is the org's SCIM token (`system`, its id); `outcome` says what
   * happened to the person (account created, member attached, invited, re-activated).
   */
  'scim.user_provisioned': fields({
    scimTokenId: z.string(),
    outcome: z.enum(['account_created', 'member_attached', 'invited', 'reactivated']),
    role: roleName.optional(),
    invitationId: z.string().optional(),
  }),
  'scim.user_deprovisioned': fields({
    scimTokenId: z.string(),
    outcome: z.enum(['suspended', 'invitation_withdrawn', 'deleted']),
    role: roleName.optional(),
    sessionsRevoked: z.number().int().nonnegative().optional(),
    sessionsCutOff: z.number().int().nonnegative().optional(),
  }),
  'scim.group_changed': fields({ scimTokenId: z.string(), from: roleName, to: roleName }),
  /** The chain's last row: what the purge deleted, counted. */
  'org.deleted': fields({
    deletedAt: z.iso.datetime({ offset: true }),
    purged: z.record(z.string(), z.number().int().nonnegative()),
  }),
};

export const accountMetadataSchemas: Record<AccountAction, z.ZodType> = {
  'login.succeeded': fields({ method: z.string().optional() }),
  'login.failed': fields({ method: z.string().optional(), reason: z.string().optional() }),
  'login.new_device': any,
  'login.country_changed': fields({ from: z.string(), to: z.string() }),
  'login.impossible_travel': fields({
    fromCountry: z.string(),
    toCountry: z.string(),
    km: z.number().nonnegative(),
    hours: z.number().nonnegative(),
    // null: the two sign-ins were at the same instant (infinitely fast)
    kmh: z.number().nonnegative().nullable(),
  }),
  'login.confirmed': any,
  'login.denied': any,
  'auth_session.revoked': fields({ reason: z.string().optional() }),
  'password.changed': fields({ sessionsRevoked: z.number().int().nonnegative() }),
  'password.reset': fields({ sessionsRevoked: z.number().int().nonnegative() }),
  'mfa.enrolled': any,
  'mfa.disabled': any,
  'step_up.succeeded': any,
  'step_up.failed': any,
  'device.trusted': any,
  'device.deleted': any,
  'passkey.registered': fields({ name: z.string().optional(), aaguid: z.string().optional() }),
  'passkey.renamed': fields({ from: z.string().optional(), to: z.string().optional() }),
  'passkey.removed': fields({ name: z.string().optional() }),
  // The counters that gave the clone away: what the server had, and what the assertion claimed.
  'passkey.clone_suspected': fields({
    storedCount: z.number().int().nonnegative(),
    receivedCount: z.number().int().nonnegative(),
  }),
  'account.created': fields({ method: z.string().optional() }),
  'email.verified': any,
  'mfa.backup_codes_regenerated': fields({ count: z.number().int().nonnegative().optional() }),
  'account.deleted': fields({ sessionsRevoked: z.number().int().nonnegative() }),
};
