-- Org deletion (lifecycle): a deleted org disappears at once (every read of it filters on
-- deleted_at), can be restored until purge_after, and is purged by the maintenance sweep after it.
-- The row itself stays as a tombstone (name and slug erased) while its closed audit chain is kept,
-- until audit_expires_at.
alter table orgs add column deleted_at timestamptz;
alter table orgs add column deleted_by uuid references users (id) on delete set null;
alter table orgs add column purge_after timestamptz;
alter table orgs add column purged_at timestamptz;
alter table orgs add column audit_expires_at timestamptz;
create index orgs_purge_due on orgs (purge_after) where purge_after is not null and purged_at is null;

-- Account deletion: the row stays as a tombstone so ids in audit rows keep pointing somewhere;
-- email and name are overwritten when deleted_at is set.
alter table users add column deleted_at timestamptz;
