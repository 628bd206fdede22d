-- Restore drills: each monthly run that cloned the database at a point in time into a scratch
-- instance and checked it (shared/backups/restore-drill.ts). restore_seconds is the measured time
-- from the clone request to a connectable copy; point_in_time_age_seconds how old the copy's data was.
create table restore_drills (
  id uuid primary key,
  instance text not null,
  scratch_instance text not null,
  point_in_time timestamptz not null,
  started_at timestamptz not null,
  finished_at timestamptz not null,
  status text not null check (status in ('passed', 'failed')),
  restore_seconds double precision,
  point_in_time_age_seconds double precision not null,
  migration_version text,
  row_counts jsonb not null default '{}',
  chains_verified integer not null default 0,
  failure text
);
create index restore_drills_started on restore_drills (started_at desc);
