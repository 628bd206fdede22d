-- Per-org IP allowlists: one row per org that has ever saved a list. `entries` is what admins see
-- (canonical CIDRs with labels); `networks` is the same list parsed at save time, 18 bytes per
-- entry (shared/allowlist/networks.ts), so the request path compiles it without parsing text.

create table ip_allowlists (
  org_id uuid primary key references orgs (id) on delete cascade,
  enabled boolean not null default false,
  entries jsonb not null default '[]'::jsonb check (jsonb_typeof(entries) = 'array'),
  networks bytea not null default ''::bytea check (length(networks) % 18 = 0),
  updated_at timestamptz not null,
  updated_by uuid references users (id) on delete set null
);
