import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Config } from '../config/config.js';
import { runCompiledDirectly } from './compiled.js';
import { PGliteDialect } from './pglite-dialect.js';
import type { Database } from './schema.js';

export type Db = Kysely<Database>;

/** Raw access used by migrations and tests: multi-statement scripts on one session. */
export interface ScriptSession {
  run(script: string): Promise<void>;
  query<R>(text: string, params?: unknown[]): Promise<R[]>;
}

export interface DbHandle {
  db: Db;
  engine: 'pglite' | 'postgres';
  /** Runs `fn` on a single session; migrations take an advisory lock inside it. */
  withSession<T>(fn: (session: ScriptSession) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** Tests give every file its own schema on a shared PostgreSQL server. */
  searchPath?: string;
}

/** How long opening a database connection may take before the request fails as UNAVAILABLE. */
export const CONNECT_TIMEOUT_MS = 3000;

// int8 as number (audit seq, counts) on both engines; ids never exceed 2^53.
const INT8_OID = 20;

export async function openDatabase(config: Config['database'], options: OpenOptions = {}): Promise<DbHandle> {
  if (config.kind === 'pglite') return openPGlite(config.dataDir);
  if (config.kind === 'postgres') {
    return openPool({ connectionString: config.url, max: config.poolMax }, options);
  }
  const { Connector, AuthTypes, IpAddressTypes } = await import('@google-cloud/cloud-sql-connector');
  const connector = new Connector();
  const clientOptions = await connector.getOptions({
    instanceConnectionName: config.instance,
    ipType: IpAddressTypes.PRIVATE,
    authType: AuthTypes.IAM,
  });
  const handle = await openPool(
    { ...clientOptions, user: config.user, database: config.database, max: config.poolMax },
    options,
  );
  return {
    ...handle,
    close: async () => {
      await handle.close();
      connector.close();
    },
  };
}

async function openPGlite(dataDir: string | null): Promise<DbHandle> {
  let location: string | undefined;
  if (dataDir) {
    location = join(dataDir, 'pglite');
    mkdirSync(location, { recursive: true });
  }
  // Imported here, not at the top: deployed functions never open PGlite and skip loading it at cold start.
  const { PGlite } = await import('@electric-sql/pglite');
  return wrapPGlite(new PGlite(location));
}

/** A handle over a PGlite instance made elsewhere (tests start from a migrated snapshot). */
export async function wrapPGlite(pglite: PGlite): Promise<DbHandle> {
  await pglite.waitReady;
  const db = new Kysely<Database>({ dialect: new PGliteDialect(pglite) });
  return {
    db,
    engine: 'pglite',
    async withSession(fn) {
      // The dialect's queue is the only way in, so borrow a connection to keep other queries out.
      return db.connection().execute(() =>
        fn({
          run: async (script) => void (await pglite.exec(script)),
          query: async <R>(text: string, params?: unknown[]) => (await pglite.query<R>(text, params)).rows,
        }),
      );
    },
    close: () => db.destroy(),
  };
}

async function openPool(poolConfig: pg.PoolConfig, options: OpenOptions): Promise<DbHandle> {
  const typeParsers = {
    getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
      oid === INT8_OID
        ? (value: string) => Number(value)
        : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
  };
  const pool = new pg.Pool({
    // A database that does not answer fails the request (503) in seconds rather than holding it.
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    keepAlive: true,
    ...poolConfig,
    types: typeParsers,
    ...(options.searchPath ? { options: `-c search_path=${options.searchPath}` } : {}),
  });
  // A connection dropped while idle, or while checked out between two statements, emits 'error':
  // unheard, that would end the process. The dead client is discarded (idle: by the pool; checked
  // out: its next query fails and its release removes it) and the next query connects afresh, so
  // the pool recovers on its own once the database is back.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  runCompiledDirectly(db, (name, text, parameters) =>
    pool.query({ name, text, values: parameters as unknown[] }),
  );
  return {
    db,
    engine: 'postgres',
    async withSession(fn) {
      const client = await pool.connect();
      try {
        return await fn({
          run: async (script) => void (await client.query(script)),
          query: async <R>(text: string, params?: unknown[]) =>
            (await client.query(text, params)).rows as R[],
        });
      } finally {
        client.release();
      }
    },
    close: () => db.destroy(),
  };
}
