-- Who an admin removed from an org. The org's identity provider may still let them sign in, and
-- its SSO would otherwise make them a member again just in time; a removal holds until an admin
-- invites them again or the org's SCIM provisions them.
create table org_removals (
  org_id uuid not null references orgs (id) on delete cascade,
  user_id uuid not null references users (id) on delete cascade,
  removed_by uuid,
  removed_at timestamptz not null,
  primary key (org_id, user_id)
);
