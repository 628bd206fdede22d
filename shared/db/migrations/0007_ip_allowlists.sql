-- Per-org IP allowlists: one row per org that has ever saved a list. Entries are canonical CIDRs
-- with labels, read and compiled as a whole (the request path caches the compiled form per org).

create table ip_allowlists (
  org_id uuid primary key references orgs (id) on delete cascade,
  enabled boolean not null default false,
  entries jsonb not null default '[]'::jsonb check (jsonb_typeof(entries) = 'array'),
  updated_at timestamptz not null,
  updated_by uuid references users (id) on delete set null
);
