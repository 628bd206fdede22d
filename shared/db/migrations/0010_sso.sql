-- Single sign-on: each org's OIDC provider, and which provider subject is which user.

create table org_sso_configs (
  org_id uuid primary key references orgs (id) on delete cascade,
  issuer_url text not null,
  client_id text not null,
  -- AES-256-GCM under the sso-seal-key secret, with the org id as associated data
  client_secret_sealed text not null,
  -- lower-case domains; a just-in-time member's email must end in one of them
  allowed_domains jsonb not null default '[]',
  default_role text not null check (default_role in ('viewer', 'member', 'admin')),
  password_login_allowed boolean not null default true,
  updated_by uuid references users (id) on delete set null,
  created_at timestamptz not null,
  updated_at timestamptz not null
);

-- The provider's `sub` is the stable identity; emails can change at the provider.
create table sso_identities (
  org_id uuid not null references orgs (id) on delete cascade,
  subject text not null,
  user_id uuid not null references users (id) on delete cascade,
  created_at timestamptz not null,
  last_login_at timestamptz not null,
  primary key (org_id, subject)
);
create index sso_identities_user on sso_identities (user_id);
