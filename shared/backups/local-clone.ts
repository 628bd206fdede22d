import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { type DbHandle, openDatabase } from '../db/connect.js';
import type { CloudSqlAdmin, CloudSqlInstanceRef, SqlOperation } from './cloud-sql-admin.js';

/** Scratch copies live beside the database, under DATA_DIR/restore-drill/<scratch instance>. */
export const LOCAL_DRILL_FOLDER = 'restore-drill';

/**
 * The embedded runtime's stand-in for the Cloud SQL Admin API calls the restore drill makes: a
 * "clone" is a copy of the live PGlite data directory (DATA_DIR/pglite), taken after a CHECKPOINT
 * while the drill holds the database's only connection, so no statement runs during the copy and
 * the copy opens like a database after a clean stop. It is a copy of the present: there is no
 * point-in-time log to replay, so the drill runs with a point-in-time age of 0.
 */
export function localPgliteClone(database: DbHandle, dataDir: string) {
  const scratchDir = (instance: string) => join(dataDir, LOCAL_DRILL_FOLDER, instance);
  const done = (name: string): SqlOperation => ({ name, status: 'DONE' });
  const admin: Pick<CloudSqlAdmin, 'clone' | 'operation' | 'deleteInstance'> = {
    clone: async (_source: CloudSqlInstanceRef, destination: string) => {
      const target = scratchDir(destination);
      if (existsSync(target)) throw new Error(`scratch copy ${destination} already exists`);
      mkdirSync(target, { recursive: true });
      await database.withSession(async (session) => {
        await session.query('checkpoint');
        cpSync(join(dataDir, 'pglite'), join(target, 'pglite'), { recursive: true });
      });
      return done(`local-clone-${destination}`);
    },
    operation: async (_project: string, name: string) => done(name),
    deleteInstance: async (ref: CloudSqlInstanceRef) => {
      rmSync(scratchDir(ref.instance), { recursive: true, force: true });
      return done(`local-delete-${ref.instance}`);
    },
  };
  return {
    admin,
    connect: (scratch: string) => openDatabase({ kind: 'pglite', dataDir: scratchDir(scratch) }),
  };
}
