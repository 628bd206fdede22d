-- Invitations can be withdrawn (an admin's DELETE, or their inviter removed or demoted below
-- admin); a withdrawn invitation is never accepted.
alter table invitations add column revoked_at timestamptz;
alter table invitations add column revoked_reason text;
create index invitations_inviter_pending on invitations (org_id, invited_by)
  where accepted_at is null and revoked_at is null;
