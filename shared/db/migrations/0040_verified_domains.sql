-- Email domains an org claims, proven by a DNS TXT record. Any org may claim a domain; the first
-- to verify it holds it (the partial unique index makes that race-free), and only its holder's
-- SSO may ever reach existing accounts of that domain.
create table org_domains (
  org_id uuid not null references orgs(id) on delete cascade,
  domain text not null,
  txt_token text not null,
  verified_at timestamptz,
  created_by uuid references users(id) on delete set null,
  created_at timestamptz not null,
  primary key (org_id, domain)
);
create unique index org_domains_verified_once on org_domains (domain) where verified_at is not null;

-- "Everyone at our verified domains signs in through our IdP", and whether owners keep a password
-- (audited every time) for when the IdP is down.
alter table orgs add column enforce_sso boolean not null default false;
alter table orgs add column allow_break_glass boolean not null default false;

-- An org's IdP asked to sign in an existing account of the org's verified domain: the account's
-- owner confirms the link from a mail (only the token's hash is kept).
create table sso_link_confirmations (
  token_hash text primary key,
  org_id uuid not null references orgs(id) on delete cascade,
  issuer text not null,
  subject text not null,
  user_id uuid not null references users(id) on delete cascade,
  expires_at timestamptz not null,
  used_at timestamptz
);
create index sso_link_confirmations_user on sso_link_confirmations (user_id);
