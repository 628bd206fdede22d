/** A registered passkey (migration 0050). `transports` is a JSON array of strings. */
export interface PasskeyCredentialsTable {
  id: string;
  user_id: string;
  credential_id: string;
  public_key: Buffer;
  /** bigint: the pg driver answers a string; the store converts. */
  sign_count: number | string;
  transports: unknown;
  backup_eligible: boolean;
  backed_up: boolean;
  aaguid: string;
  name: string;
  created_at: Date;
  last_used_at: Date | null;
}

export type ChallengePurpose = 'register' | 'login' | 'step_up';

export interface PasskeyChallengesTable {
  id: string;
  purpose: ChallengePurpose;
  challenge_hash: Buffer;
  session_id: string | null;
  user_id: string | null;
  expires_at: Date;
  used_at: Date | null;
}

declare module '../db/schema.js' {
  interface Database {
    passkey_credentials: PasskeyCredentialsTable;
    passkey_challenges: PasskeyChallengesTable;
  }
}
