import { type CloudEvent, cloudEvent } from '@google-cloud/functions-framework';
import { listBackupRuns, serviceAccountToken } from '../../shared/backups/cloud-sql-admin.js';
import { consumer } from '../../shared/bus/consumer.js';
import { perPlatform } from '../../shared/runtime/platform.js';
import { backupVerifyHandlers } from './handlers.js';

const deps = perPlatform(async (p) => {
  const instance = p.config.database.kind === 'cloud-sql' ? p.config.database.instance : null;
  // The function's service account (roles/cloudsql.viewer) authenticates to the Admin API.
  const accessToken = await serviceAccountToken();
  return {
    platform: p,
    handlers: backupVerifyHandlers({
      instance,
      listRuns: (ref) => listBackupRuns(ref, { accessToken }),
      now: () => p.clock.now(),
      logger: p.logger,
    }),
  };
});

cloudEvent('backup-verify', async (event: CloudEvent<unknown>) => {
  const { platform, handlers } = await deps();
  await consumer('backup-verify', handlers, async () => platform)(event);
  // A backup-missing alert sits in the outbox (same transaction as the check): publish it now, not
  // whenever another unit next drains the outbox.
  await platform.relay
    .drain()
    .catch((error: unknown) => platform.logger.error('publishing the backup check failed', { error }));
});
