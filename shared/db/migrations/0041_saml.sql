-- SAML 2.0 beside OIDC: an org's SSO speaks one protocol. For SAML, issuer_url holds the IdP's
-- entity ID (identities stay keyed by (org, issuer, subject) = (org, entity ID, NameID)), and the
-- OIDC client columns are empty strings.
alter table org_sso_configs add column protocol text not null default 'oidc'
  check (protocol in ('oidc', 'saml'));
alter table org_sso_configs add column saml_sso_url text;
-- jsonb array of the IdP's signing certificates (base64 DER, as in its metadata).
alter table org_sso_configs add column saml_certs jsonb;

-- AuthnRequests we issued: an answer must name one (InResponseTo), from the browser that started
-- it (its id is also in the signed state cookie), once.
create table saml_requests (
  id text primary key,
  org_id uuid not null references orgs(id) on delete cascade,
  expires_at timestamptz not null,
  used_at timestamptz
);
create index saml_requests_expiry on saml_requests (expires_at);

-- Assertion ids seen, kept until the assertion expires: the same assertion is accepted once.
create table saml_assertions (
  org_id uuid not null references orgs(id) on delete cascade,
  assertion_id text not null,
  expires_at timestamptz not null,
  primary key (org_id, assertion_id)
);
create index saml_assertions_expiry on saml_assertions (expires_at);
