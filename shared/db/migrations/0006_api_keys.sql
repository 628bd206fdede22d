-- Org API keys. Only SHA-256(key) is stored (looked up through a unique index) with a short
-- display prefix; the key itself is shown once, in the create answer.
create table api_keys (
  id uuid primary key,
  org_id uuid not null references orgs (id) on delete cascade,
  name text not null check (char_length(name) between 1 and 100),
  role text not null check (role in ('viewer', 'member', 'admin', 'owner')),
  key_hash bytea not null check (octet_length(key_hash) = 32),
  display_prefix text not null,
  created_by uuid references users (id) on delete set null,
  created_at timestamptz not null,
  -- checked on every use; null never expires
  expires_at timestamptz,
  -- written at most once a minute per key (conditional update)
  last_used_at timestamptz,
  revoked_at timestamptz,
  revoked_by uuid references users (id) on delete set null
);
create unique index api_keys_key_hash on api_keys (key_hash);
create index api_keys_org_live on api_keys (org_id, created_at) where revoked_at is null;
