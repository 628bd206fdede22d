export interface SessionsTable {
  id: string;
  token_hash: Buffer;
  user_id: string;
  org_id: string | null;
  device_id: string | null;
  ip: string | null;
  user_agent: string | null;
  country: string | null;
  created_at: Date;
  last_seen_at: Date;
  expires_at: Date;
  idle_timeout_minutes: number;
  sudo_until: Date | null;
  /** How the sudo window was gained ('password', 'totp', 'backup_code', 'passkey'; migration 0050). */
  sudo_method: string | null;
  /** The authenticator model (AAGUID) of a passkey step-up (migration 0050). */
  sudo_aaguid: string | null;
  revoked_at: Date | null;
  revoked_reason: string | null;
}

declare module '../db/schema.js' {
  interface Database {
    sessions: SessionsTable;
  }
}

export interface KnownDevicesTable {
  id: string;
  user_id: string;
  fingerprint: string;
  user_agent: string | null;
  trusted: boolean;
  first_seen_at: Date;
  last_seen_at: Date;
  deleted_at: Date | null;
}

export interface RevocationFeedTable {
  stream_key: string;
  revoked_at: Date;
  reason: string;
  expires_at: Date;
}

declare module '../db/schema.js' {
  interface Database {
    known_devices: KnownDevicesTable;
    revocation_feed: RevocationFeedTable;
  }
}
