import type { ColumnType } from 'kysely';

export type WebhookFormat = 'standard' | 'splunk-hec' | 'datadog' | 'sumo';
export type DeliveryStatus = 'pending' | 'delivered' | 'failed';
export type AttemptOutcome = 'delivered' | 'retrying' | 'failed';

export interface WebhookEndpointsTable {
  id: string;
  org_id: string;
  url: string;
  description: ColumnType<string, string | undefined, string>;
  format: WebhookFormat;
  events: ColumnType<string[], string, string>;
  enabled: boolean;
  disabled_reason: string | null;
  secret_sealed: string;
  previous_secret_sealed: string | null;
  previous_secret_expires_at: Date | null;
  headers_sealed: string | null;
  header_names: ColumnType<string[], string | undefined, string>;
  failing_since: Date | null;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface WebhookDeliveriesTable {
  id: string;
  endpoint_id: string;
  org_id: string;
  event_id: string;
  type: string;
  payload: ColumnType<WebhookPayload, string, string>;
  status: DeliveryStatus;
  attempts: ColumnType<number, number | undefined, number>;
  next_attempt_at: Date | null;
  lease_until: Date | null;
  created_at: Date;
  finished_at: Date | null;
}

export interface WebhookAttemptsTable {
  id: string;
  delivery_id: string;
  attempt: number;
  outcome: AttemptOutcome;
  response_status: number | null;
  duration_ms: number;
  error: string | null;
  attempted_at: Date;
}

/** The Standard Webhooks body every format is made from: `{type, timestamp, data}`. */
export interface WebhookPayload {
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
}

declare module '../db/schema.js' {
  interface Database {
    webhook_endpoints: WebhookEndpointsTable;
    webhook_deliveries: WebhookDeliveriesTable;
    webhook_attempts: WebhookAttemptsTable;
  }
}
