-- Security signals: where each sign-in came from, a hold on sessions that must step up
-- (impossible travel), the mailed "was this you?" confirmation, and which security events the
-- user has acknowledged (the events themselves are rows of the user's audit chain).

alter table sessions add column city text;
-- Why the session must step up before anything but its own session views, step-up and logout
-- ('impossible_travel'); null for a session that may act.
alter table sessions add column step_up_reason text check (step_up_reason in ('impossible_travel'));
-- Where the sign-in that started the session was located (the next sign-in is compared with it).
alter table sessions add column latitude double precision;
alter table sessions add column longitude double precision;
alter table sessions add column accuracy_radius_km double precision;
create index sessions_user_located on sessions (user_id, created_at desc) where latitude is not null;

alter table known_devices add column country text;
alter table known_devices add column city text;

alter table one_time_tokens drop constraint one_time_tokens_purpose_check;
alter table one_time_tokens add constraint one_time_tokens_purpose_check
  check (purpose in ('verify-email', 'password-reset', 'invitation', 'login-confirmation'));

create table security_event_acks (
  user_id uuid not null references users (id) on delete cascade,
  audit_id uuid not null,
  acknowledged_at timestamptz not null,
  primary key (user_id, audit_id)
);
