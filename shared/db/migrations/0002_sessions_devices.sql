-- Sessions and devices: known devices per user, the device a session started on, and the
-- embedded-mode live revocation feed.

-- One row per (user, fingerprint). Forgetting a device soft-deletes it (deleted_at), so history
-- stays and a later login from it counts as a new device again.
create table known_devices (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references users (id) on delete cascade,
  -- hex of the first 16 bytes of SHA-256 over length-prefixed (IP, User-Agent)
  fingerprint text not null check (fingerprint ~ '^[0-9a-f]{32}$'),
  user_agent text,
  trusted boolean not null default false,
  first_seen_at timestamptz not null,
  last_seen_at timestamptz not null,
  deleted_at timestamptz,
  unique (user_id, fingerprint)
);

alter table sessions
  add constraint sessions_device_fk foreign key (device_id) references known_devices (id) on delete set null;
create index sessions_device_live on sessions (device_id) where revoked_at is null;

-- Live revocation feed (embedded mode; Firestore in production): one row per revoked session,
-- keyed by SHA-256(SHA-256(token)). Unlogged: after a crash the rows are gone, but so is every
-- open stream, and the sessions table remains the authority on validity.
create unlogged table revocation_feed (
  stream_key text primary key check (stream_key ~ '^[0-9a-f]{64}$'),
  revoked_at timestamptz not null,
  reason text not null,
  expires_at timestamptz not null
);
create index revocation_feed_expiry on revocation_feed (expires_at);
