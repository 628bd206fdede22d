import { sql } from 'kysely';
import type { DrillResult } from '../../shared/backups/restore-drill.js';
import type { TopicHandlers } from '../../shared/bus/consumer.js';
import type { Db } from '../../shared/db/connect.js';
import type { Logger } from '../../shared/log/logger.js';

export interface RestoreDrillUnitDeps {
  db: Db;
  /** Null on an in-memory database (no data directory to copy) or without a Cloud SQL instance. */
  drill: ((expectedMigrationVersion: string) => { run(): Promise<DrillResult> }) | null;
  logger: Logger;
}

/**
 * The monthly tick. The drill takes minutes (a Cloud SQL clone), so it runs once the tick is
 * claimed, outside its transaction: a redelivery of the same tick finds it claimed and does
 * nothing. The copy must be at the live database's migration version.
 */
export function restoreDrillHandlers(deps: RestoreDrillUnitDeps): TopicHandlers {
  return {
    'restore-drill': async () => {
      const drill = deps.drill;
      if (!drill) {
        deps.logger.info('no Cloud SQL instance or data directory to copy; restore drill skipped');
        return;
      }
      return async () => {
        const live = await sql<{
          version: string;
        }>`select max(version) as version from schema_migrations`.execute(deps.db);
        await drill(live.rows[0]?.version ?? '').run();
      };
    },
  };
}
