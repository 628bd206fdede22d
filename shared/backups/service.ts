import { appendAudit } from '../audit/append.js';
import { enqueue, type Tx } from '../bus/outbox.js';
import { BACKUP_MAX_AGE_MS, type BackupRun, judgeBackups } from './model.js';
import { type BackupCheck, recordBackupCheck } from './store.js';

/** Enough for years of nightly runs; a runaway pageToken loop cannot hold the transaction forever. */
const MAX_PAGES = 20;

/**
 * Runs one backup verification: reads backup runs (newest first) until a fresh SUCCESSFUL one is
 * found or the pages reach past the 7-day window, then records the result, audits it on the
 * `system:backups` chain and, when no fresh backup exists, raises a `backup-missing` security event,
 * all in the caller's transaction.
 */
export async function verifyBackups(
  tx: Tx,
  input: { instance: string; pages: AsyncIterable<BackupRun[]>; now: Date },
): Promise<BackupCheck> {
  const { instance, now } = input;
  const runs: BackupRun[] = [];
  let pages = 0;
  for await (const page of input.pages) {
    runs.push(...page);
    if (judgeBackups(runs, now).status === 'verified' || ++pages >= MAX_PAGES) break;
    if (page.some((run) => olderThanWindow(run, now))) break;
  }
  const check: BackupCheck = { instance, checkedAt: now, ...judgeBackups(runs, now) };
  await recordBackupCheck(tx, check);
  const metadata = {
    latestSuccessAt: check.latestSuccessAt?.toISOString() ?? null,
    latestSuccessRunId: check.latestSuccessRunId,
    runsExamined: check.runsExamined,
  };
  await appendAudit(tx, {
    system: 'backups',
    action: check.status === 'verified' ? 'backup.verified' : 'backup.missing',
    actor: { type: 'system', id: 'backup-verify' },
    target: { type: 'cloudsql_instance', id: instance },
    metadata,
    now,
  });
  if (check.status === 'missing') {
    await enqueue(
      tx,
      'security-events',
      { kind: 'backup-missing', detail: { instance, ...metadata } },
      { now },
    );
  }
  return check;
}

/** Runs are listed newest first: once one was scheduled before the window, later pages are older still. */
function olderThanWindow(run: BackupRun, now: Date): boolean {
  const scheduledAt = Date.parse(run.windowStartTime ?? run.startTime ?? run.endTime ?? '');
  return !Number.isNaN(scheduledAt) && now.getTime() - scheduledAt > BACKUP_MAX_AGE_MS;
}
