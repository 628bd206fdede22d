import type { Generated, JSONColumnType } from 'kysely';
import type { Envelope } from './envelope.js';

export interface OutboxTable {
  id: Generated<number>;
  event_id: string;
  topic: string;
  envelope: JSONColumnType<Envelope, string, string>;
  created_at: Generated<Date>;
  attempts: Generated<number>;
  next_attempt_at: Generated<Date>;
  last_error: string | null;
}

export interface ProcessedEventsTable {
  consumer: string;
  event_id: string;
  processed_at: Generated<Date>;
}

declare module '../db/schema.js' {
  interface Database {
    outbox: OutboxTable;
    processed_events: ProcessedEventsTable;
  }
}
