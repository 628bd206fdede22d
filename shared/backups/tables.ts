import type { Generated } from 'kysely';

export interface BackupChecksTable {
  id: Generated<string>;
  instance: string;
  status: 'verified' | 'missing';
  checked_at: Date;
  latest_success_at: Date | null;
  latest_success_run_id: string | null;
  runs_examined: number;
}

export interface RestoreDrillsTable {
  id: string;
  instance: string;
  scratch_instance: string;
  point_in_time: Date;
  started_at: Date;
  finished_at: Date;
  status: 'passed' | 'failed';
  restore_seconds: number | null;
  point_in_time_age_seconds: number;
  migration_version: string | null;
  row_counts: string;
  chains_verified: number;
  failure: string | null;
}

declare module '../db/schema.js' {
  interface Database {
    backup_checks: BackupChecksTable;
    restore_drills: RestoreDrillsTable;
  }
}
