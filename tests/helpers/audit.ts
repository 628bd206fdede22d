import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { signingKeys, trustedKeyRing } from '../../shared/audit/checkpoint.js';
import { CheckpointStore } from '../../shared/audit/checkpoints.js';
import { AuditService } from '../../shared/audit/service.js';
import { LocalBlobStore } from '../../shared/blob/local.js';
import type { Db } from '../../shared/db/connect.js';
import { createLogger, type Logger } from '../../shared/log/logger.js';

export type TestAuditService = ReturnType<typeof testAuditService>;

/** An AuditService over `db` with a fresh Ed25519 key and a checkpoint bucket in a temp folder. */
export function testAuditService(
  db: Db,
  logger: Logger = createLogger('silent'),
  options: { dataDir?: string; retired?: KeyObject[] } = {},
) {
  const pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const keys = signingKeys(pem);
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'sf-audit-'));
  const blobs = new LocalBlobStore(dataDir, 'audit-checkpoints');
  const checkpoints = new CheckpointStore(blobs, async () => trustedKeyRing(keys, options.retired ?? []));
  const audit = new AuditService({ db, checkpoints, keys: async () => keys, logger });
  return { audit, keys, blobs, checkpoints, dataDir };
}

/**
 * Runs `statements` against audit_logs the way an attacker with database access would: the
 * append-only trigger is switched off around it (within one transaction).
 */
export async function tamper(db: Db, ...statements: string[]): Promise<void> {
  await db.transaction().execute(async (tx) => {
    await sql`alter table audit_logs disable trigger audit_logs_refuse_update_delete`.execute(tx);
    for (const statement of statements) await sql.raw(statement).execute(tx);
    await sql`alter table audit_logs enable trigger audit_logs_refuse_update_delete`.execute(tx);
  });
}

/** One chain's rows (`user:<id>`, `org:<id>`), oldest first, as the database holds them. */
export function chainRows(db: Db, chain: string) {
  return db.selectFrom('audit_logs').selectAll().where('chain', '=', chain).orderBy('seq').execute();
}
