import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../log/logger.js';
import type { DbHandle } from './connect.js';

/**
 * Versioned SQL migrations: `shared/db/migrations/NNNN_name.sql`, applied in order, each in its own
 * transaction, recorded in `schema_migrations`. An advisory lock makes concurrent starts safe: the
 * second instance waits, then finds nothing left to do.
 */
const MIGRATION_LOCK_ID = 7_310_442_001;
const FILE_PATTERN = /^(\d{4})_[a-z0-9_]+\.sql$/;

export const migrationsDir = fileURLToPath(new URL('./migrations/', import.meta.url));

export interface Migration {
  version: string;
  name: string;
  sql: string;
}

export function loadMigrations(dir = migrationsDir): Migration[] {
  const files = readdirSync(dir)
    .filter((file) => FILE_PATTERN.test(file))
    .sort();
  const seen = new Set<string>();
  return files.map((file) => {
    const version = file.slice(0, 4);
    if (seen.has(version)) throw new Error(`Two migrations share version ${version}`);
    seen.add(version);
    return { version, name: file, sql: readFileSync(`${dir}/${file}`, 'utf8') };
  });
}

export async function migrate(
  handle: DbHandle,
  logger?: Logger,
  migrations = loadMigrations(),
): Promise<string[]> {
  return handle.withSession(async (session) => {
    if (handle.engine === 'postgres') await session.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
    try {
      await session.run(
        'create table if not exists schema_migrations (version text primary key, name text not null, applied_at timestamptz not null default now())',
      );
      const applied = new Set(
        (await session.query<{ version: string }>('select version from schema_migrations')).map(
          (r) => r.version,
        ),
      );
      const done: string[] = [];
      for (const migration of migrations) {
        if (applied.has(migration.version)) continue;
        logger?.info('applying migration', { migration: migration.name });
        await session
          .run(
            `begin;\n${migration.sql}\n;insert into schema_migrations (version, name) values ('${migration.version}', '${migration.name}');\ncommit;`,
          )
          .catch(async (error: unknown) => {
            await session.run('rollback').catch(() => undefined);
            throw new Error(`Migration ${migration.name} failed: ${(error as Error).message}`);
          });
        done.push(migration.name);
      }
      return done;
    } finally {
      if (handle.engine === 'postgres')
        await session.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]);
    }
  });
}
