/**
 * What `npm run db:grant` gives one function's IAM database user (scripts/db-grants.ts): read and
 * write on the application's tables, except what the audit trail forbids. The blanket grant covers
 * every table, the audit ones included, so the exceptions are taken back after it: audit rows are
 * only ever appended (no UPDATE or DELETE: an expired chain goes only through the database's
 * purge_expired_audit_chain, migration 0055) and the purge log is the database's to write.
 * `role` and `schema` must already be quoted identifiers.
 */
export function appUserGrants(role: string, schema = 'public'): string[] {
  return [
    `grant usage on schema ${schema} to ${role};`,
    `grant select, insert, update, delete on all tables in schema ${schema} to ${role};`,
    `grant usage, select on all sequences in schema ${schema} to ${role};`,
  ];
}
