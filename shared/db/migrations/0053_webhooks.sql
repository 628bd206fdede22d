-- Org webhooks and SIEM export (API.md "webhooks and SIEM export").

-- An endpoint: where an org's events go and in which provider's shape. The signing secret and the
-- provider headers (their tokens) are sealed with the webhook key and never shown again after
-- creation. During a rotation the previous secret signs too until previous_secret_expires_at.
create table webhook_endpoints (
  id uuid primary key,
  org_id uuid not null references orgs (id) on delete cascade,
  url text not null check (length(url) between 1 and 2048),
  description text not null default '' check (length(description) <= 500),
  format text not null check (format in ('standard', 'splunk-hec', 'datadog', 'sumo')),
  events jsonb not null check (jsonb_typeof(events) = 'array'),
  enabled boolean not null default true,
  -- why it is off: 'admin' (PATCH), 'failing' (5 days of failures), 'org_deleted'
  disabled_reason text,
  secret_sealed text not null,
  previous_secret_sealed text,
  previous_secret_expires_at timestamptz,
  headers_sealed text,
  header_names jsonb not null default '[]' check (jsonb_typeof(header_names) = 'array'),
  -- the first failure of the current unbroken run of failures; cleared by any success
  failing_since timestamptz,
  created_by uuid references users (id) on delete set null,
  created_at timestamptz not null,
  updated_at timestamptz not null
);
create index webhook_endpoints_org on webhook_endpoints (org_id, created_at);

-- One event for one endpoint. Its id is the `webhook-id` header, the same on every attempt.
-- status: pending (waiting for next_attempt_at), delivered, failed (a 4xx or out of retries).
-- lease_until: a deliverer holds it until then; claims count live leases to bound the endpoint's
-- concurrency across instances.
create table webhook_deliveries (
  id uuid primary key,
  endpoint_id uuid not null references webhook_endpoints (id) on delete cascade,
  org_id uuid not null references orgs (id) on delete cascade,
  event_id uuid not null,
  type text not null,
  payload jsonb not null,
  status text not null check (status in ('pending', 'delivered', 'failed')),
  attempts integer not null default 0,
  next_attempt_at timestamptz,
  lease_until timestamptz,
  created_at timestamptz not null,
  finished_at timestamptz
);
create index webhook_deliveries_endpoint on webhook_deliveries (endpoint_id, created_at desc, id desc);
create index webhook_deliveries_due on webhook_deliveries (next_attempt_at) where status = 'pending';
create index webhook_deliveries_finished on webhook_deliveries (finished_at) where finished_at is not null;

-- Every attempt: what the receiver answered (or why nothing came back) and how long it took.
create table webhook_attempts (
  id uuid primary key,
  delivery_id uuid not null references webhook_deliveries (id) on delete cascade,
  attempt integer not null,
  outcome text not null check (outcome in ('delivered', 'retrying', 'failed')),
  response_status integer,
  duration_ms integer not null,
  error text,
  attempted_at timestamptz not null
);
create index webhook_attempts_delivery on webhook_attempts (delivery_id, attempt);
