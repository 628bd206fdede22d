-- Foundation: accounts, credentials, one-time tokens, sessions, the outbox, consumer
-- idempotency, rate-limit windows and the audit chain.

create table users (
  id uuid primary key default gen_random_uuid(),
  email text not null,
  -- lower(NFC(email)): the identity used for lookups and uniqueness
  email_normalized text not null unique,
  name text not null,
  email_verified_at timestamptz,
  disabled_at timestamptz,
  created_at timestamptz not null default now()
);

create table password_credentials (
  user_id uuid primary key references users (id) on delete cascade,
  -- bcrypt over base64(HMAC-SHA256(pepper, NFC(password)))
  hash text not null,
  updated_at timestamptz not null default now()
);

-- Verification, reset and invitation tokens: only SHA-256(token) is stored.
create table one_time_tokens (
  token_hash bytea primary key,
  purpose text not null check (purpose in ('verify-email', 'password-reset', 'invitation')),
  user_id uuid references users (id) on delete cascade,
  subject text,
  expires_at timestamptz not null,
  used_at timestamptz,
  created_at timestamptz not null default now()
);
create index one_time_tokens_user_purpose on one_time_tokens (user_id, purpose) where used_at is null;

create table sessions (
  id uuid primary key default gen_random_uuid(),
  -- SHA-256(token); the token itself is never stored
  token_hash bytea not null unique,
  user_id uuid not null references users (id) on delete cascade,
  -- the org this session acts in, when it was started for one (SSO, org login)
  org_id uuid,
  device_id uuid,
  ip text,
  user_agent text,
  country text,
  created_at timestamptz not null,
  last_seen_at timestamptz not null,
  expires_at timestamptz not null,
  idle_timeout_minutes integer not null check (idle_timeout_minutes > 0),
  sudo_until timestamptz,
  revoked_at timestamptz,
  revoked_reason text
);
create index sessions_user_live on sessions (user_id, created_at) where revoked_at is null;

-- Transactional outbox: written in the same transaction as the change, drained to the bus,
-- deleted once published.
create table outbox (
  id bigint generated always as identity primary key,
  event_id uuid not null unique,
  topic text not null,
  envelope jsonb not null,
  created_at timestamptz not null default now(),
  attempts integer not null default 0,
  next_attempt_at timestamptz not null default now(),
  last_error text
);
create index outbox_due on outbox (next_attempt_at, id);

-- Consumers record each event id they handled so a redelivery is a no-op.
create table processed_events (
  consumer text not null,
  event_id uuid not null,
  processed_at timestamptz not null default now(),
  primary key (consumer, event_id)
);

-- Sliding-window log per key (login attempts per IP, failures per account). Unlogged: losing
-- it in a crash only forgets recent attempts.
create unlogged table rate_limits (
  key text primary key,
  hits timestamptz[] not null,
  expires_at timestamptz not null
);
create index rate_limits_expiry on rate_limits (expires_at);

-- Tamper-evident audit log: one hash chain per org ("org:<id>") and per user ("user:<id>").
create table audit_chain_heads (
  chain text primary key,
  seq bigint not null,
  hash text not null
);

create table audit_logs (
  id uuid primary key,
  chain text not null,
  seq bigint not null,
  org_id uuid,
  actor_type text not null check (actor_type in ('user', 'api_key', 'system')),
  actor_id text,
  action text not null,
  target_type text,
  target_id text,
  metadata jsonb not null,
  ip text,
  created_at timestamptz not null,
  prev_hash text not null,
  hash text not null,
  unique (chain, seq)
);
create index audit_logs_org_time on audit_logs (org_id, created_at);
