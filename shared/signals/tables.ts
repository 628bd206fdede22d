export interface SecurityEventAcksTable {
  user_id: string;
  /** The audit row (of the user's chain) the user has seen. */
  audit_id: string;
  acknowledged_at: Date;
}

declare module '../db/schema.js' {
  interface Database {
    security_event_acks: SecurityEventAcksTable;
  }
}
