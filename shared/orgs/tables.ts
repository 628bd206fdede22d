import type { Generated } from 'kysely';
import type { OrgRole, SessionLimitAction } from './model.js';

export interface OrgsTable {
  id: string;
  name: string;
  slug: string;
  enterprise: boolean;
  max_concurrent_sessions: number | null;
  idle_timeout_minutes: number | null;
  absolute_timeout_hours: number | null;
  require_mfa: boolean;
  /** Migration 0050: this org's step-ups accept only a passkey. */
  require_passkey: Generated<boolean>;
  /** Migration 0050: null, or a JSON array of AAGUIDs whose passkeys count here. */
  allowed_aaguids: unknown;
  on_session_limit: SessionLimitAction;
  /** Sign-in for accounts of the org's verified domains goes through its SSO only. */
  enforce_sso: Generated<boolean>;
  /** With enforce_sso: owners may still sign in with a password (audited as `sso.fallback`). */
  allow_break_glass: Generated<boolean>;
  created_at: Date;
  /** Migration 0045: set while deleted (404 everywhere); restorable until purge_after. */
  deleted_at?: Date | null;
  deleted_by?: string | null;
  purge_after?: Date | null;
  purged_at?: Date | null;
  audit_expires_at?: Date | null;
}

export interface MembershipsTable {
  org_id: string;
  user_id: string;
  role: OrgRole;
  expires_at: Date | null;
  created_at: Date;
}

export interface InvitationsTable {
  id: string;
  org_id: string;
  email: string;
  email_normalized: string;
  role: OrgRole;
  membership_expires_at: Date | null;
  invited_by: string | null;
  created_at: Date;
  accepted_at: Date | null;
  accepted_by: string | null;
  revoked_at: Date | null;
  revoked_reason: string | null;
}

/** A session's activity in one org (migration 0018): what the org's idle timeout and cap judge. */
export interface SessionOrgActivityTable {
  session_id: string;
  org_id: string;
  user_id: string;
  first_seen_at: Date;
  last_activity_at: Date;
  ended_at: Date | null;
  ended_reason: string | null;
}

/** Migration 0063: a member an admin removed, whom the org's SSO does not bring back on its own. */
export interface OrgRemovalsTable {
  org_id: string;
  user_id: string;
  removed_by: string | null;
  removed_at: Date;
}

declare module '../db/schema.js' {
  interface Database {
    orgs: OrgsTable;
    org_removals: OrgRemovalsTable;
    memberships: MembershipsTable;
    invitations: InvitationsTable;
    session_org_activity: SessionOrgActivityTable;
  }
}
