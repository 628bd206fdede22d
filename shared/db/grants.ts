/**
 * What `npm run db:grant` gives one function's IAM database user (scripts/db-grants.ts): read and
 * write on the application's tables, except what the audit trail forbids. The blanket grant covers
 * every table, the audit ones included, so the exceptions are taken back after it: audit rows are
 * only ever appended (no UPDATE or DELETE: an expired chain goes only through the database's
 * purge_expired_audit_chain, migrations 0055 and 0062, which they may call) and the purge log is the
 * database's to write.
 * `role` and `schema` must already be quoted identifiers.
 */
export function appUserGrants(role: string, schema = 'public'): string[] {
  return [
    `grant usage on schema ${schema} to ${role};`,
    `grant select, insert, update, delete on all tables in schema ${schema} to ${role};`,
    `grant usage, select on all sequences in schema ${schema} to ${role};`,
    `revoke update, delete, truncate on ${schema}.audit_logs from ${role};`,
    `revoke insert, update, delete, truncate on ${schema}.audit_chain_purges from ${role};`,
    // Heads and checkpoint rows go only with their expired chain, inside the purge function.
    `revoke delete, truncate on ${schema}.audit_chain_heads, ${schema}.audit_checkpoints from ${role};`,
    // The maintenance sweep (revocations) expires closed chains through it; EXECUTE is not public.
    `grant execute on function ${schema}.purge_expired_audit_chain(uuid, integer, timestamptz) to ${role};`,
  ];
}
