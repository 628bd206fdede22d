import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { type Insertable, sql } from 'kysely';
import pg from 'pg';
import { type Db, type DbHandle, openDatabase, wrapPGlite } from '../../shared/db/connect.js';
import type { OrgsTable } from '../../shared/orgs/tables.js';
import '../../shared/orgs/tables.js';
import '../../shared/sso/tables.js';
import { loadMigrations, type Migration, migrate } from '../../shared/db/migrate.js';

/** Which engine the database-backed tests run on: PostgreSQL when DATABASE_URL is set, else PGlite. */
export const testEngine = process.env.DATABASE_URL ? 'postgres' : 'pglite';

/**
 * A fresh, migrated database for one test file: an in-memory PGlite, or a schema of its own on the
 * PostgreSQL server named by DATABASE_URL (dropped again on close). `migrations` (default: all)
 * lets a data migration's test stop before it, write rows, then migrate the rest.
 */
export async function openTestDatabase(
  engine: 'pglite' | 'postgres' = testEngine,
  migrations: Migration[] = loadMigrations(),
): Promise<DbHandle> {
  const url = process.env.DATABASE_URL;
  if (engine === 'postgres' && !url) throw new Error('the postgres engine needs DATABASE_URL');
  if (engine === 'pglite' || !url) return wrapPGlite(await openTestPGlite(migrations));
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  const handle = await openDatabase({ kind: 'postgres', url, poolMax: 10 }, { searchPath: schema });
  await migrate(handle, undefined, migrations);
  return {
    ...handle,
    async close() {
      await handle.close();
      const cleanup = new pg.Client({ connectionString: url });
      await cleanup.connect();
      await cleanup.query(`drop schema ${schema} cascade`);
      await cleanup.end();
    },
  };
}

/** A migrated in-memory PGlite, for tests that wrap it (fault injection) before making a handle. */
export async function openTestPGlite(migrations: Migration[] = loadMigrations()): Promise<PGlite> {
  return new PGlite({ loadDataDir: await migratedSnapshot(migrations) });
}

/**
 * A PGlite data directory with every migration applied, made once per set of migrations and
 * kept in the system temp folder: loading it is several times faster than booting PGlite and
 * migrating, which every test file would otherwise pay.
 */
async function migratedSnapshot(migrations: Migration[]): Promise<Blob> {
  const digest = createHash('sha256');
  for (const m of migrations) digest.update(m.name).update(m.sql);
  const file = join(tmpdir(), `sessionforge-pglite-${digest.digest('hex').slice(0, 16)}.tar.gz`);
  try {
    return new Blob([readFileSync(file)]);
  } catch {
    const pglite = new PGlite();
    const fresh = await wrapPGlite(pglite);
    await migrate(fresh, undefined, migrations);
    const dump = await pglite.dumpDataDir('gzip');
    await fresh.close();
    const temp = `${file}.${process.pid}.tmp`;
    writeFileSync(temp, Buffer.from(await dump.arrayBuffer()));
    renameSync(temp, file);
    return dump;
  }
}

/**
 * An org row with the default policy (what POST /api/orgs creates), for tests and benches that
 * need one without going through the orgs service. Returns its id.
 */
export async function insertOrg(db: Db, org: { slug: string; name?: string; now: Date }): Promise<string> {
  // The policy columns later migrations added (enforce_sso, require_passkey, …) keep their database
  // defaults, so migration tests can insert orgs into a schema from before them.
  const values: Insertable<OrgsTable> = {
    id: randomUUID(),
    name: org.name ?? org.slug,
    slug: org.slug,
    enterprise: false,
    max_concurrent_sessions: null,
    idle_timeout_minutes: null,
    absolute_timeout_hours: null,
    require_mfa: false,
    on_session_limit: 'revoke_oldest',
    created_at: org.now,
  };
  const row = await db.insertInto('orgs').values(values).returning('id').executeTakeFirstOrThrow();
  return row.id;
}

/**
 * SSO settings stored directly (set-up only: no discovery, and a secret that does not open), for
 * tests that read, delete or migrate them rather than sign in through them. Keeps existing settings.
 */
export async function insertSsoConfig(db: Db, config: { orgId: string; issuerUrl: string; now: Date }) {
  await db
    .insertInto('org_sso_configs')
    .values({
      org_id: config.orgId,
      issuer_url: config.issuerUrl,
      client_id: 'client',
      client_secret_sealed: 'sealed-elsewhere',
      allowed_domains: JSON.stringify(['acme.test']),
      default_role: 'member',
      password_login_allowed: true,
      updated_by: null,
      created_at: config.now,
      updated_at: config.now,
    })
    .onConflict((oc) => oc.column('org_id').doNothing())
    .execute();
}

/**
 * Another writer's transaction holding the org's row lock (as a console change does) with
 * `change` done in it; `release` commits it once the request under test waits for the lock, or
 * after 2 s (a request that takes no lock has answered by then). PGlite runs one transaction at
 * a time, so there the request simply queues behind the held one.
 */
export async function holdOrgLock(
  db: Db,
  orgId: string,
  change: (tx: Db) => Promise<unknown>,
): Promise<{ release: () => Promise<void> }> {
  const held = await db.startTransaction().execute();
  await held.selectFrom('orgs').select('id').where('id', '=', orgId).forUpdate().execute();
  await change(held as unknown as Db);
  return {
    async release() {
      if (testEngine === 'pglite') await new Promise((resolve) => setTimeout(resolve, 100));
      else {
        for (let i = 0; i < 80; i++) {
          const waiting = await sql<{ n: number }>`
            select count(*)::int as n from pg_stat_activity
            where wait_event_type = 'Lock' and pid <> pg_backend_pid() and query ilike '%"orgs"%for update%'`.execute(
            db,
          );
          if ((waiting.rows[0]?.n ?? 0) > 0) break;
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
      }
      await held.commit().execute();
    },
  };
}
