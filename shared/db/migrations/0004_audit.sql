-- Audit log hardening: rows are append-only for everyone the trigger applies to, and the
-- application role may only INSERT and SELECT them. Checkpoint bookkeeping for the signer.

create or replace function audit_logs_refuse_change() returns trigger
language plpgsql as $$
begin
  raise exception 'audit_logs is append-only: % refused', tg_op
    using errcode = 'insufficient_privilege';
end;
$$;

create trigger audit_logs_refuse_update_delete
  before update or delete on audit_logs
  for each row execute function audit_logs_refuse_change();

create trigger audit_logs_refuse_truncate
  before truncate on audit_logs
  for each statement execute function audit_logs_refuse_change();

-- The role the functions' database users are members of. Roles are cluster-wide, so on a shared
-- server (or a second schema) it may exist already; a concurrent creator counts as existing.
do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'sessionforge_app') then
    create role sessionforge_app nologin;
  end if;
exception when duplicate_object or unique_violation then null;
end;
$$;

grant insert, select on audit_logs to sessionforge_app;
revoke update, delete, truncate on audit_logs from sessionforge_app;
grant select, insert, update on audit_chain_heads to sessionforge_app;

-- The last signed checkpoint per chain: only tells the hourly signer which chains moved.
-- The signed objects in the checkpoint bucket are what verify trusts, never this table.
create table audit_checkpoints (
  chain text primary key,
  seq bigint not null,
  hash text not null,
  signed_at timestamptz not null
);
grant select, insert, update on audit_checkpoints to sessionforge_app;
