-- Results of the weekly Cloud SQL backup verification (backup-verify unit); the newest row is
-- what GET /api/health?detail=backups reports.
create table backup_checks (
  id uuid primary key default gen_random_uuid(),
  -- Cloud SQL instance checked, "project:region:instance"
  instance text not null,
  status text not null check (status in ('verified', 'missing')),
  checked_at timestamptz not null,
  -- end of the newest SUCCESSFUL backup run seen, however old; null when none was listed
  latest_success_at timestamptz,
  latest_success_run_id text,
  runs_examined integer not null
);
create index backup_checks_newest on backup_checks (checked_at desc);
