import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type CloudEvent, cloudEvent } from '@google-cloud/functions-framework';
import { cloudSqlAdmin, instanceRef, serviceAccountToken } from '../../shared/backups/cloud-sql-admin.js';
import { localPgliteClone } from '../../shared/backups/local-clone.js';
import { RestoreDrill } from '../../shared/backups/restore-drill.js';
import { consumer } from '../../shared/bus/consumer.js';
import { openDatabase } from '../../shared/db/connect.js';
import { perPlatform } from '../../shared/runtime/platform.js';
import { auditDeps } from '../audit/deps.js';
import { restoreDrillHandlers } from './handlers.js';

const deps = perPlatform(async (p) => {
  const database = p.config.database;
  const ref = database.kind === 'cloud-sql' ? instanceRef(database.instance) : null;
  // Embedded mode whose database lives in DATA_DIR/pglite: the drill checks a copy of that
  // directory. (An in-memory database, or one handed in by a test, has no directory to copy.)
  if (
    database.kind === 'pglite' &&
    database.dataDir &&
    p.database.engine === 'pglite' &&
    existsSync(join(database.dataDir, 'pglite', 'PG_VERSION'))
  ) {
    const { checkpoints } = await auditDeps();
    const local = localPgliteClone(p.database, database.dataDir);
    const drill = (expectedMigrationVersion: string) =>
      new RestoreDrill({
        db: p.db,
        admin: local.admin,
        source: { project: 'local', instance: 'embedded' },
        connect: local.connect,
        checkpoints,
        expectedMigrationVersion,
        now: () => p.clock.now(),
        logger: p.logger,
        pointInTimeAgeMs: 0,
      });
    return { platform: p, handlers: restoreDrillHandlers({ db: p.db, drill, logger: p.logger }) };
  }
  if (database.kind !== 'cloud-sql' || !ref) {
    return { platform: p, handlers: restoreDrillHandlers({ db: p.db, drill: null, logger: p.logger }) };
  }
  // The function's service account (roles/cloudsql.admin) clones and deletes the scratch instance.
  const accessToken = await serviceAccountToken();
  const { checkpoints } = await auditDeps();
  const region = database.instance.split(':')[1];
  const drill = (expectedMigrationVersion: string) =>
    new RestoreDrill({
      db: p.db,
      admin: cloudSqlAdmin({ accessToken }),
      source: ref,
      // Through the Cloud SQL connector, as the same IAM database user (the clone keeps it).
      connect: (scratch) =>
        openDatabase({ ...database, instance: `${ref.project}:${region}:${scratch}`, poolMax: 1 }),
      checkpoints,
      expectedMigrationVersion,
      now: () => p.clock.now(),
      logger: p.logger,
    });
  return { platform: p, handlers: restoreDrillHandlers({ db: p.db, drill, logger: p.logger }) };
});

cloudEvent('restore-drill', async (event: CloudEvent<unknown>) => {
  const { platform, handlers } = await deps();
  await consumer('restore-drill', handlers, async () => platform)(event);
});
