import { type CloudSqlInstanceRef, instanceRef } from '../../shared/backups/cloud-sql-admin.js';
import type { BackupRun } from '../../shared/backups/model.js';
import { verifyBackups } from '../../shared/backups/service.js';
import type { TopicHandlers } from '../../shared/bus/consumer.js';
import type { Logger } from '../../shared/log/logger.js';

export interface BackupVerifyDeps {
  /** CLOUD_SQL_INSTANCE ("project:region:instance"); null on an embedded database, which has no backups to check. */
  instance: string | null;
  listRuns: (ref: CloudSqlInstanceRef) => AsyncIterable<BackupRun[]>;
  now: () => Date;
  logger: Logger;
}

/** The weekly tick: checks the Cloud SQL backups; an Admin API failure throws so Pub/Sub retries. */
export function backupVerifyHandlers(deps: BackupVerifyDeps): TopicHandlers {
  return {
    'backup-verify': async (_envelope, tx) => {
      if (!deps.instance) {
        deps.logger.info('no Cloud SQL instance configured; backup verification skipped');
        return;
      }
      const ref = instanceRef(deps.instance);
      if (!ref) throw new Error('CLOUD_SQL_INSTANCE is not "project:region:instance"');
      const check = await verifyBackups(tx, {
        instance: deps.instance,
        pages: deps.listRuns(ref),
        now: deps.now(),
      });
      deps.logger[check.status === 'verified' ? 'info' : 'warn']('backup verification', {
        status: check.status,
        latestSuccessAt: check.latestSuccessAt?.toISOString() ?? null,
        runsExamined: check.runsExamined,
      });
    },
  };
}
