import type { Generated } from 'kysely';
import type { FirstFactor } from './model.js';

export interface MfaTotpTable {
  user_id: string;
  secret_sealed: string;
  key_id: string;
  created_at: Date;
  confirmed_at: Date | null;
  /** Unix seconds / 30: about 6e7 today, so an integer column lasts for millennia. */
  last_step: number | null;
  failed_attempts: Generated<number>;
  locked_until: Date | null;
}

export interface MfaBackupCodesTable {
  user_id: string;
  code_hash: Buffer;
  created_at: Date;
  used_at: Date | null;
}

export interface MfaChallengesTable {
  token_hash: Buffer;
  user_id: string;
  client_fingerprint: string;
  expires_at: Date;
  used_at: Date | null;
  /** How the login's first step was passed (migration 0013). */
  first_factor: Generated<FirstFactor>;
}

declare module '../db/schema.js' {
  interface Database {
    mfa_totp: MfaTotpTable;
    mfa_backup_codes: MfaBackupCodesTable;
    mfa_challenges: MfaChallengesTable;
  }
}
