import { z } from 'zod';

/** The closed list of audited actions (API.md "audit"). Org events chain per org, account events per user. */
export const orgActions = [
  'member.invited',
  'member.joined',
  'member.removed',
  'member.role_changed',
  'invitation.revoked',
  'session.started',
  'session.stopped',
  'recording.archived',
  'recording.frames_refused',
  'recording.stop_refused',
  'machine.added',
  'machine.deleted',
  'sso.login',
  'sso.fallback',
  'api_key.created',
  'api_key.deleted',
  'plan.changed',
  'ip_allowlist.updated',
  'policy.updated',
  'auth_session.revoked',
  'backup.verified',
  'backup.missing',
  'recording.playback_issued',
  'org.deletion_requested',
  'org.restored',
  'org.deleted',
  'backup.restore_drill_passed',
  'backup.restore_drill_failed',
  'scim.token_created',
  'scim.token_revoked',
  'scim.user_provisioned',
  'scim.user_deprovisioned',
  'scim.group_changed',
] as const;

/**
 * Org actions other SessionForge services may append through the `audit-events` topic: theirs
 * (machines, billing). Every other action is written by this product in the transaction of its
 * change, so an outside producer claiming one (say `member.role_changed`) is refused.
 */
export const externalOrgActions = ['machine.added', 'machine.deleted', 'plan.changed'] as const;

export const accountActions = [
  'login.succeeded',
  'login.failed',
  'login.new_device',
  'login.country_changed',
  'login.impossible_travel',
  'login.confirmed',
  'login.denied',
  'auth_session.revoked',
  'password.changed',
  'password.reset',
  'mfa.enrolled',
  'mfa.disabled',
  'step_up.succeeded',
  'step_up.failed',
  'device.trusted',
  'device.deleted',
  'passkey.registered',
  'passkey.renamed',
  'passkey.removed',
  'passkey.clone_suspected',
  'account.created',
  'email.verified',
  'mfa.backup_codes_regenerated',
  'account.deleted',
] as const;

export const orgActionSchema = z.enum(orgActions);
export const accountActionSchema = z.enum(accountActions);
export const externalOrgActionSchema = z.enum(externalOrgActions);
export type OrgAction = (typeof orgActions)[number];
export type AccountAction = (typeof accountActions)[number];
export type ActorType = 'user' | 'api_key' | 'system';
