-- Orgs, memberships, invitations and each org's security policy (kept on the org row, so one
-- row lock serializes every owner-count check).

create table orgs (
  id uuid primary key default gen_random_uuid(),
  name text not null,
  slug text not null unique,
  -- Policy. Nulls mean "no limit of our own": the idle fallback then depends on `enterprise`.
  enterprise boolean not null default false,
  max_concurrent_sessions integer check (max_concurrent_sessions between 1 and 1000),
  idle_timeout_minutes integer check (idle_timeout_minutes between 1 and 20160),
  absolute_timeout_hours integer check (absolute_timeout_hours between 1 and 336),
  require_mfa boolean not null default false,
  on_session_limit text not null default 'revoke_oldest'
    check (on_session_limit in ('revoke_oldest', 'refuse')),
  created_at timestamptz not null
);

create table memberships (
  org_id uuid not null references orgs (id) on delete cascade,
  user_id uuid not null references users (id) on delete cascade,
  role text not null check (role in ('viewer', 'member', 'admin', 'owner')),
  -- checked on every request; null never expires
  expires_at timestamptz,
  created_at timestamptz not null,
  primary key (org_id, user_id)
);
create index memberships_user on memberships (user_id);

-- The token itself lives hashed in one_time_tokens (purpose 'invitation', subject = invitation id).
create table invitations (
  id uuid primary key,
  org_id uuid not null references orgs (id) on delete cascade,
  email text not null,
  email_normalized text not null,
  role text not null check (role in ('viewer', 'member', 'admin', 'owner')),
  membership_expires_at timestamptz,
  invited_by uuid references users (id) on delete set null,
  created_at timestamptz not null,
  accepted_at timestamptz,
  accepted_by uuid references users (id) on delete set null
);
create index invitations_org on invitations (org_id, created_at);

-- The admin session view pages by (created_at, id) per user.
create index sessions_user_created on sessions (user_id, created_at desc, id desc);
