/** Why a session is held until it steps up. */
export type StepUpReason = 'impossible_travel';

export interface SessionsTable {
  id: string;
  token_hash: Buffer;
  user_id: string;
  org_id: string | null;
  device_id: string | null;
  ip: string | null;
  user_agent: string | null;
  country: string | null;
  city: string | null;
  /** Where the sign-in that started this session was located (the next sign-in is compared with it). */
  latitude: number | null;
  longitude: number | null;
  accuracy_radius_km: number | null;
  /** Set while the session must step up before it may act ('impossible_travel'). */
  step_up_reason: StepUpReason | null;
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
  /** Where the device was last seen signing in from. */
  country: string | null;
  city: string | null;
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
