-- MFA: one TOTP credential per user, its backup codes, and the login second-step challenges.

-- The TOTP secret is sealed (AES-256-GCM, associated data = user id); key_id names the key of the
-- mfa key ring it was sealed under, so a rotation can find the rows still on an old key.
-- confirmed_at is null while enrolment waits for the first valid code.
-- last_step is the last accepted RFC 6238 time step: advanced only by a compare-and-set
-- (UPDATE ... WHERE last_step < $step), so a code is accepted once even under concurrency.
-- failed_attempts counts wrong codes in a row; the fifth sets locked_until (step-up and MFA login).
create table mfa_totp (
  user_id uuid primary key references users (id) on delete cascade,
  secret_sealed text not null,
  key_id text not null,
  created_at timestamptz not null,
  confirmed_at timestamptz,
  last_step integer,
  failed_attempts integer not null default 0 check (failed_attempts >= 0),
  locked_until timestamptz
);

-- Backup codes: SHA-256(user id, code) only; used_at is set once by an atomic UPDATE.
create table mfa_backup_codes (
  user_id uuid not null references users (id) on delete cascade,
  code_hash bytea not null,
  created_at timestamptz not null,
  used_at timestamptz,
  primary key (user_id, code_hash)
);

-- Login second step: SHA-256(mfaToken), bound to the user and the client (IP + User-Agent
-- fingerprint), 5 minutes, single use (atomic used_at update).
create table mfa_challenges (
  token_hash bytea primary key,
  user_id uuid not null references users (id) on delete cascade,
  client_fingerprint text not null check (client_fingerprint ~ '^[0-9a-f]{32}$'),
  expires_at timestamptz not null,
  used_at timestamptz
);
create index mfa_challenges_expiry on mfa_challenges (expires_at);
