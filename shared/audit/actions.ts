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
] as const;

export const accountActions = [
  'login.succeeded',
  'login.failed',
  'login.new_device',
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
] as const;

export const orgActionSchema = z.enum(orgActions);
export const accountActionSchema = z.enum(accountActions);
export type OrgAction = (typeof orgActions)[number];
export type AccountAction = (typeof accountActions)[number];
export type ActorType = 'user' | 'api_key' | 'system';
