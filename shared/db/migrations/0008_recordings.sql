-- Terminal recordings (issue 9): metadata is the system of record; frames wait in a buffer until
-- the archive unit has streamed them to the recordings bucket.
create table recordings (
  id uuid primary key,
  org_id uuid not null references orgs (id) on delete cascade,
  title text not null,
  width integer not null check (width between 1 and 1000),
  height integer not null check (height between 1 and 1000),
  machine_id text,
  status text not null check (status in ('recording', 'archiving', 'archived', 'failed')),
  started_by_type text not null,
  started_by_id text,
  started_at timestamptz not null,
  stopped_at timestamptz,
  archived_at timestamptz,
  blob_key text,
  bytes bigint,
  sha256 text,
  archive_attempts integer not null default 0,
  last_error text
);
create index recordings_org_started on recordings (org_id, started_at desc, id);

-- The embedded frame buffer (Firestore in production): fast, disposable state, so unlogged.
-- No foreign keys: an unlogged table cannot be referenced by, and stays apart from, the record.
create unlogged table recording_buffers (
  recording_id uuid primary key,
  bytes bigint not null default 0,
  sealed boolean not null default false
);

create unlogged table recording_chunks (
  recording_id uuid not null,
  seq bigint not null,
  first_time double precision not null,
  last_time double precision not null,
  -- NDJSON text (valid UTF-8, never NUL): text moves through PGlite far faster than bytea.
  data text not null,
  primary key (recording_id, seq)
);
-- Out of line but uncompressed: chunks are written once and read once, and gzip compresses them at
-- archive time anyway, so pglz on write and read would be pure cost.
alter table recording_chunks alter column data set storage external;
