-- Expired audit chains of purged orgs (README "Data retention"): the one way rows leave audit_logs.
-- audit_logs stays append-only for everyone; the trigger lets a DELETE through only inside
-- purge_expired_audit_chain, which checks that the chain is closed and old enough, writes the purge
-- log row first and then marks its own transaction for that one chain. Updates and truncates are
-- always refused.

-- The purge log: what went, when, and the hash the chain ended on (compare it with the last signed
-- checkpoint in the bucket). The application may read it; only the function below writes it.
create table audit_chain_purges (
  chain text primary key,
  org_id uuid not null,
  last_seq bigint not null,
  last_hash text not null,
  closed_at timestamptz not null,
  rows_deleted bigint not null,
  purged_at timestamptz not null
);
grant select on audit_chain_purges to sessionforge_app;

create or replace function audit_logs_refuse_change() returns trigger
language plpgsql as $$
declare
  v_logged boolean;
begin
  -- Both the transaction's mark for this chain and a purge log row for it: the mark alone
  -- (set_config is open to every role) proves nothing, and the application cannot insert the row.
  -- The log is looked up in the table's own schema, never a caller's temporary table.
  if tg_op = 'DELETE' and current_setting('sessionforge.audit_chain_expiring', true) = old.chain then
    execute format('select exists (select 1 from %I.audit_chain_purges where chain = $1)', tg_table_schema)
      into v_logged using old.chain;
    if v_logged then
      return old;
    end if;
  end if;
  raise exception 'audit_logs is append-only: % refused', tg_op
    using errcode = 'insufficient_privilege';
end;
$$;

-- SECURITY DEFINER: runs with the migration owner's right to delete. Its search_path is pinned to
-- this schema with pg_temp last, so a caller's temporary tables cannot stand in for orgs or the
-- chain and make a live chain look closed. (The schema is only known here, hence the format.)
do $migration$
begin
  execute format($fn$
create or replace function purge_expired_audit_chain(p_org_id uuid, p_retention_days integer, p_now timestamptz)
returns bigint
language plpgsql
security definer
set search_path = %I, pg_temp
as $body$
declare
  v_chain text := 'org:' || p_org_id::text;
  -- The caller's clock may run behind (tests, a lagging host), never ahead of the database's.
  v_cutoff timestamptz;
  v_org record;
  v_head record;
  v_last record;
  v_newest timestamptz;
  v_rows bigint;
begin
  if p_retention_days is null or p_retention_days < 30 then
    raise exception 'audit retention must be at least 30 days' using errcode = 'invalid_parameter_value';
  end if;
  v_cutoff := least(p_now, now()) - make_interval(days => p_retention_days);
  select id, deleted_at, purged_at into v_org from orgs where id = p_org_id for update;
  if not found or v_org.deleted_at is null or v_org.purged_at is null or v_org.purged_at > v_cutoff then
    return null;
  end if;
  select seq, hash into v_head from audit_chain_heads where chain = v_chain for update;
  if not found then
    return null;
  end if;
  -- Closed: the head's row is the purge's own org.deleted row.
  select seq, hash, action, actor_type, created_at into v_last
    from audit_logs where chain = v_chain order by seq desc limit 1;
  if not found or v_last.seq <> v_head.seq or v_last.hash <> v_head.hash
     or v_last.action <> 'org.deleted' or v_last.actor_type <> 'system' then
    return null;
  end if;
  -- Quiet: no row of the chain (the closing one included) is younger than the retention, so a
  -- chain with recent activity never qualifies, whatever its last row claims.
  select max(created_at) into v_newest from audit_logs where chain = v_chain;
  if v_newest > v_cutoff then
    return null;
  end if;
  insert into audit_chain_purges (chain, org_id, last_seq, last_hash, closed_at, rows_deleted, purged_at)
    values (v_chain, p_org_id, v_head.seq, v_head.hash, v_last.created_at, 0, least(p_now, now()));
  perform set_config('sessionforge.audit_chain_expiring', v_chain, true);
  delete from audit_logs where chain = v_chain;
  get diagnostics v_rows = row_count;
  perform set_config('sessionforge.audit_chain_expiring', '', true);
  update audit_chain_purges set rows_deleted = v_rows where chain = v_chain;
  delete from audit_checkpoints where chain = v_chain;
  delete from audit_chain_heads where chain = v_chain;
  return v_rows;
end;
$body$;
$fn$, current_schema());
end;
$migration$;

revoke all on function purge_expired_audit_chain(uuid, integer, timestamptz) from public;
grant execute on function purge_expired_audit_chain(uuid, integer, timestamptz) to sessionforge_app;
