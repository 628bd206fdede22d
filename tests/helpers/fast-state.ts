import type { Firestore } from '@google-cloud/firestore';
import type { DbHandle } from '../../shared/db/connect.js';
import { openDatabase } from '../../shared/db/connect.js';
import { migrate } from '../../shared/db/migrate.js';
import { openTestDatabase } from './db.js';
import { startTestFirestore } from './firestore.js';

/**
 * The backends a fast-state contract suite runs on: PGlite always, PostgreSQL when DATABASE_URL
 * is set, and Firestore (the in-process emulator) always.
 */
export type FastStateBackend =
  | { name: string; kind: 'postgres'; db: DbHandle['db']; close(): Promise<void> }
  | { name: string; kind: 'firestore'; firestore: Firestore; close(): Promise<void> };

export const backendNames = [
  'pglite',
  ...(process.env.DATABASE_URL ? ['postgres'] : []),
  'firestore',
] as const;

export async function openBackend(name: string): Promise<FastStateBackend> {
  if (name === 'firestore') {
    const started = await startTestFirestore();
    return { name, kind: 'firestore', firestore: started.firestore, close: started.stop };
  }
  let handle: DbHandle;
  if (name === 'pglite') {
    handle = await openDatabase({ kind: 'pglite', dataDir: null });
    await migrate(handle);
  } else {
    handle = await openTestDatabase();
  }
  return { name, kind: 'postgres', db: handle.db, close: () => handle.close() };
}
