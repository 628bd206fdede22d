-- What a session does in each org, apart from what it does on the account's own routes: the org's
-- idle timeout and session cap judge this row, never sessions.last_seen_at (SECURITY.md
-- "Sessions"). A row appears the first time a session acts in the org; `ended_at` closes that
-- session's reach into the org (org idle timeout, session cap, leaving, an admin's revoke) while
-- the session itself may live on for the account's other uses.
create table session_org_activity (
  session_id uuid not null references sessions (id) on delete cascade,
  org_id uuid not null references orgs (id) on delete cascade,
  user_id uuid not null references users (id) on delete cascade,
  first_seen_at timestamptz not null,
  -- written at most once a minute (conditional update), like sessions.last_seen_at
  last_activity_at timestamptz not null,
  ended_at timestamptz,
  ended_reason text,
  primary key (session_id, org_id)
);
-- The admin view pages an org's sessions; the cap counts one user's sessions in one org.
create index session_org_activity_org_user on session_org_activity (org_id, user_id);
