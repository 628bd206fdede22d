-- SCIM 2.0 provisioning (RFC 7643/7644) per org.

-- An org's SCIM tokens: only SHA-256(token) is stored (unique index for the lookup) with a short
-- display prefix; the token itself is shown once, in the create answer. Org deletion revokes them.
create table scim_tokens (
  id uuid primary key,
  org_id uuid not null references orgs (id) on delete cascade,
  name text not null check (char_length(name) between 1 and 100),
  token_hash bytea not null check (octet_length(token_hash) = 32),
  display_prefix text not null,
  created_by uuid references users (id) on delete set null,
  created_at timestamptz not null,
  -- written at most once a minute per token (conditional update)
  last_used_at timestamptz,
  revoked_at timestamptz,
  revoked_by uuid references users (id) on delete set null
);
create unique index scim_tokens_token_hash on scim_tokens (token_hash);
create index scim_tokens_org_live on scim_tokens (org_id, created_at) where revoked_at is null;

-- What the org's identity provider knows about a person beyond the membership: its externalId, a
-- pending invitation (an existing account SCIM may not attach on its own), or a suspension (the
-- membership row is gone, so every gate refuses it; the role waits here for re-activation).
-- A person is a SCIM User of the org while a membership exists, or this row is invited/suspended.
create table scim_users (
  org_id uuid not null references orgs (id) on delete cascade,
  user_id uuid not null references users (id) on delete cascade,
  external_id text check (char_length(external_id) between 1 and 255),
  invitation_id uuid references invitations (id) on delete set null,
  suspended_at timestamptz,
  suspended_role text check (suspended_role in ('viewer', 'member', 'admin')),
  suspended_expires_at timestamptz,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  primary key (org_id, user_id),
  check ((suspended_at is null) = (suspended_role is null))
);
create unique index scim_users_external_id on scim_users (org_id, external_id) where external_id is not null;
create index scim_users_parked on scim_users (org_id, user_id) where suspended_at is not null or invitation_id is not null;
