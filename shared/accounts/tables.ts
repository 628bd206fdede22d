import type { Generated } from 'kysely';

export interface UsersTable {
  id: Generated<string>;
  email: string;
  email_normalized: string;
  name: string;
  email_verified_at: Date | null;
  disabled_at: Date | null;
  created_at: Generated<Date>;
}

export interface PasswordCredentialsTable {
  user_id: string;
  hash: string;
  updated_at: Generated<Date>;
}

export type OneTimeTokenPurpose = 'verify-email' | 'password-reset' | 'invitation' | 'login-confirmation';

export interface OneTimeTokensTable {
  token_hash: Buffer;
  purpose: OneTimeTokenPurpose;
  user_id: string | null;
  subject: string | null;
  expires_at: Date;
  used_at: Date | null;
  created_at: Generated<Date>;
}

declare module '../db/schema.js' {
  interface Database {
    users: UsersTable;
    password_credentials: PasswordCredentialsTable;
    one_time_tokens: OneTimeTokensTable;
  }
}
