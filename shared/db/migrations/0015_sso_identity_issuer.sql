-- SSO identities are keyed by the provider that vouches for them: (org, issuer, subject). A
-- subject means nothing without its issuer, and an org that points its SSO at another provider
-- must not inherit the old provider's links (the service drops them when the issuer changes).
alter table sso_identities add column issuer text;
update sso_identities
  set issuer = org_sso_configs.issuer_url
  from org_sso_configs
  where org_sso_configs.org_id = sso_identities.org_id;
-- Links of orgs without SSO settings have no provider left to speak for them.
delete from sso_identities where issuer is null;
-- Links that an org's provider made to an account with a password were made by matching its email
-- (the takeover this migration closes): the account's owner never agreed to them. They link again
-- from their own stepped-up session.
delete from sso_identities
  where user_id in (select user_id from password_credentials);
alter table sso_identities alter column issuer set not null;
alter table sso_identities drop constraint sso_identities_pkey;
alter table sso_identities add primary key (org_id, issuer, subject);
