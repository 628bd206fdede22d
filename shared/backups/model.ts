import { z } from 'zod';
import { HOUR_MS } from '../time/clock.js';

/** SECURITY.md "Backups": a successful backup must have finished within the last 7 days. */
export const BACKUP_MAX_AGE_MS = 7 * 24 * HOUR_MS;

/** The fields of a Cloud SQL Admin API v1 BackupRun this check reads (others are ignored). */
export const backupRunSchema = z.object({
  id: z.string(),
  status: z.string(),
  type: z.string().optional(),
  windowStartTime: z.string().optional(),
  startTime: z.string().optional(),
  endTime: z.string().optional(),
});
export type BackupRun = z.infer<typeof backupRunSchema>;

export interface BackupVerdict {
  status: 'verified' | 'missing';
  /** End of the newest SUCCESSFUL run, however old (null: none seen). */
  latestSuccessAt: Date | null;
  latestSuccessRunId: string | null;
  runsExamined: number;
}

/**
 * Decides whether a SUCCESSFUL backup run ended within `maxAgeMs` before `now`. Runs in any other
 * status (FAILED, RUNNING, SKIPPED, DELETED…) never count, nor do runs without a parseable end time
 * or ending after `now` (a clock we cannot trust).
 */
export function judgeBackups(runs: BackupRun[], now: Date, maxAgeMs = BACKUP_MAX_AGE_MS): BackupVerdict {
  let latest: { at: Date; id: string } | null = null;
  for (const run of runs) {
    if (run.status !== 'SUCCESSFUL' || !run.endTime) continue;
    const endedAt = new Date(run.endTime);
    if (Number.isNaN(endedAt.getTime()) || endedAt.getTime() > now.getTime()) continue;
    if (!latest || endedAt.getTime() > latest.at.getTime()) latest = { at: endedAt, id: run.id };
  }
  const fresh = latest !== null && now.getTime() - latest.at.getTime() <= maxAgeMs;
  return {
    status: fresh ? 'verified' : 'missing',
    latestSuccessAt: latest?.at ?? null,
    latestSuccessRunId: latest?.id ?? null,
    runsExamined: runs.length,
  };
}
