-- The hourly maintenance sweep drops processed event ids older than Pub/Sub could still redeliver
-- (functions/revocations): an index on their age keeps that a range delete, not a table scan.
create index processed_events_age on processed_events (processed_at);
