-- The audit purge gate of migration 0055, tightened: a delete on audit_logs passes only when it is
-- made as the owner of purge_expired_audit_chain (which a SECURITY DEFINER call is, and nobody
-- else), in a transaction the function marked for that chain, with its purge log row written.
-- The mark is open to every role (set_config), and a role granted DELETE on audit_logs and INSERT
-- on audit_chain_purges (as a blanket "all tables" grant gives) could otherwise write both itself
-- and delete a live chain. Updates and truncates are still always refused.
-- Its search_path is pinned to pg_catalog: a caller's own schema put before pg_catalog cannot lend
-- it another current_setting or "=" (tables are named through the trigger's own schema).
create or replace function audit_logs_refuse_change() returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
declare
  v_purger oid;
  v_logged boolean;
begin
  if tg_op = 'DELETE' and pg_catalog.current_setting('sessionforge.audit_chain_expiring', true) = old.chain then
    -- The function of this table's schema, by its exact signature (an overload someone else
    -- created does not count), and who owns it.
    select p.proowner into v_purger
      from pg_catalog.pg_proc p
      where p.oid = pg_catalog.to_regprocedure(
        pg_catalog.format('%I.purge_expired_audit_chain(uuid, integer, timestamptz)', tg_table_schema))
        and p.prosecdef;
    if v_purger is not null and v_purger = (select r.oid from pg_catalog.pg_roles r where r.rolname = current_user) then
      execute pg_catalog.format('select exists (select 1 from %I.audit_chain_purges where chain = $1)', tg_table_schema)
        into v_logged using old.chain;
      if v_logged then
        return old;
      end if;
    end if;
  end if;
  raise exception 'audit_logs is append-only: % refused', tg_op
    using errcode = 'insufficient_privilege';
end;
$$;
