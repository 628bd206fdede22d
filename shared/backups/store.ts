import type { Tx } from '../bus/outbox.js';
import type { Db } from '../db/connect.js';
import type { BackupVerdict } from './model.js';
import './tables.js';

export interface BackupCheck extends BackupVerdict {
  instance: string;
  checkedAt: Date;
}

export async function recordBackupCheck(tx: Tx, check: BackupCheck): Promise<void> {
  await tx
    .insertInto('backup_checks')
    .values({
      instance: check.instance,
      status: check.status,
      checked_at: check.checkedAt,
      latest_success_at: check.latestSuccessAt,
      latest_success_run_id: check.latestSuccessRunId,
      runs_examined: check.runsExamined,
    })
    .execute();
}

/** The newest check, or null before the first one ran. */
export async function latestBackupCheck(db: Db): Promise<BackupCheck | null> {
  const row = await db
    .selectFrom('backup_checks')
    .selectAll()
    .orderBy('checked_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (!row) return null;
  return {
    instance: row.instance,
    status: row.status,
    checkedAt: new Date(row.checked_at),
    latestSuccessAt: row.latest_success_at ? new Date(row.latest_success_at) : null,
    latestSuccessRunId: row.latest_success_run_id,
    runsExamined: row.runs_examined,
  };
}
