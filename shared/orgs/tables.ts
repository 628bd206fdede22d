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
  on_session_limit: SessionLimitAction;
  created_at: Date;
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
}

declare module '../db/schema.js' {
  interface Database {
    orgs: OrgsTable;
    memberships: MembershipsTable;
    invitations: InvitationsTable;
  }
}
