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

declare module '../db/schema.js' {
  interface Database {
    backup_checks: BackupChecksTable;
  }
}
