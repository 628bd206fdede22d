-- Passkeys (WebAuthn): a user's registered credentials, and the challenges the ceremonies use.

-- credential_id is the authenticator's credential id (base64url), unique across all users: the
-- sign-in ceremony finds the account from it. public_key is the COSE key. sign_count is the
-- authenticator's last counter (0 for authenticators that never count); a received counter that
-- does not move forward refuses the assertion (a cloned authenticator). aaguid names the
-- authenticator model (an org policy may limit the accepted models).
create table passkey_credentials (
  id uuid primary key,
  user_id uuid not null references users (id) on delete cascade,
  credential_id text not null unique,
  public_key bytea not null,
  sign_count bigint not null default 0 check (sign_count >= 0),
  transports jsonb not null default '[]' check (jsonb_typeof(transports) = 'array'),
  backup_eligible boolean not null,
  backed_up boolean not null,
  aaguid text not null,
  name text not null check (length(name) between 1 and 100),
  created_at timestamptz not null,
  last_used_at timestamptz
);
create index passkey_credentials_user on passkey_credentials (user_id, created_at);

-- A ceremony's challenge: SHA-256 of it only, 5 minutes, single use (atomic used_at update).
-- Registration and step-up challenges are bound to the session that asked for them; sign-in
-- challenges belong to no one yet and are named by their id (the `challengeId` clients send).
create table passkey_challenges (
  id uuid primary key,
  purpose text not null check (purpose in ('register', 'login', 'step_up')),
  challenge_hash bytea not null,
  session_id uuid references sessions (id) on delete cascade,
  user_id uuid references users (id) on delete cascade,
  expires_at timestamptz not null,
  used_at timestamptz,
  check ((purpose = 'login') = (session_id is null))
);
create index passkey_challenges_expiry on passkey_challenges (expires_at);
create index passkey_challenges_session on passkey_challenges (session_id) where session_id is not null;

-- How a session's sudo window was gained ('password', 'totp', 'backup_code', 'passkey') and, for a
-- passkey, its authenticator model: an org that requires passkeys accepts only such a window.
alter table sessions add column sudo_method text;
alter table sessions add column sudo_aaguid text;

-- Org policy: requirePasskey (its step-ups accept only a passkey) and allowedAaguids (null: any
-- authenticator model; else the models whose passkeys count for that org's step-ups).
alter table orgs add column require_passkey boolean not null default false;
alter table orgs add column allowed_aaguids jsonb check (allowed_aaguids is null or jsonb_typeof(allowed_aaguids) = 'array');
