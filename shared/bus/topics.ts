import { z } from 'zod';

/**
 * Every Pub/Sub topic, its payload schema and the units consuming it. Infra (infra/pubsub.tf) is
 * checked against this table by tests/infra.
 */
const mailAction = z.object({
  type: z.enum([
    'verify-email',
    'password-reset',
    'invitation',
    'new-device',
    'login-confirmation',
    'sso-link',
  ]),
  url: z.url(),
});

export const topicSchemas = {
  /** Mail to send; `sealed` is the message sealed with the mail key, since links carry tokens. */
  'mail-outbox': z.object({ sealed: z.string().min(1) }),
  'security-events': z.object({
    kind: z.enum(['new-device', 'backup-missing', 'step-up-locked', 'allowlist-store-error']),
    userId: z.string().optional(),
    detail: z.record(z.string(), z.unknown()).default({}),
  }),
  /** streamKey = hex SHA-256(SHA-256(token)): what live clients listen on. */
  'session-revoked': z.object({
    sessionId: z.string(),
    userId: z.string(),
    streamKey: z.string().regex(/^[0-9a-f]{64}$/),
    reason: z.string(),
  }),
  'recording-stopped': z.object({ recordingId: z.string() }),
  'audit-events': z.object({
    action: z.string(),
    actorType: z.enum(['user', 'api_key', 'system']),
    actorId: z.string().nullable(),
    targetType: z.string().nullable().default(null),
    targetId: z.string().nullable().default(null),
    metadata: z.record(z.string(), z.unknown()).default({}),
    ip: z.string().nullable().default(null),
  }),
  'audit-checkpoint': z.object({}).passthrough(),
  'backup-verify': z.object({}).passthrough(),
  /** Monthly: clone the database at a recent point in time and check the copy (shared/backups/restore-drill.ts). */
  'restore-drill': z.object({}).passthrough(),
  /** Hourly: the archive unit deletes leftover buffers and stops recordings gone idle (shared/recordings/sweep.ts). */
  'recordings-sweep': z.object({}).passthrough(),
  /** Hourly: drops expired rate-limit windows, revocation-feed entries and old processed event ids. */
  'maintenance-sweep': z.object({}).passthrough(),
  /**
   * Published (through the outbox) when an org's list changes. No unit consumes it: a push
   * subscription reaches one instance of one function, not every instance's cache, so instances
   * converge within the cache TTL (README "IP allowlists"); the topic is there for a per-instance
   * pull subscriber should a tighter bound be needed.
   */
  'allowlist-changed': z.object({ orgId: z.string() }),
} as const;

export type Topic = keyof typeof topicSchemas;
export type TopicData<T extends Topic> = z.output<(typeof topicSchemas)[T]>;
export type TopicInput<T extends Topic> = z.input<(typeof topicSchemas)[T]>;

export const mailMessageSchema = z.object({
  to: z.email(),
  subject: z.string().min(1),
  text: z.string().min(1),
  action: mailAction,
});
export type MailMessage = z.infer<typeof mailMessageSchema>;

/** Which unit consumes which topic (a push subscription per pair in production). */
export const subscriptions: ReadonlyArray<{ topic: Topic; unit: string }> = [
  { topic: 'mail-outbox', unit: 'notify' },
  { topic: 'security-events', unit: 'notify' },
  { topic: 'session-revoked', unit: 'revocations' },
  { topic: 'recording-stopped', unit: 'archive' },
  { topic: 'recordings-sweep', unit: 'archive' },
  { topic: 'maintenance-sweep', unit: 'revocations' },
  { topic: 'audit-events', unit: 'audit-consumer' },
  { topic: 'audit-checkpoint', unit: 'audit-consumer' },
  { topic: 'backup-verify', unit: 'backup-verify' },
  { topic: 'restore-drill', unit: 'restore-drill' },
];

/** Cloud Scheduler jobs: they publish an empty envelope to their topic. */
export const schedules: ReadonlyArray<{ topic: Topic; cron: string; everyMs: number }> = [
  { topic: 'audit-checkpoint', cron: '0 * * * *', everyMs: 60 * 60 * 1000 },
  { topic: 'backup-verify', cron: '0 6 * * 1', everyMs: 7 * 24 * 60 * 60 * 1000 },
  // Half past, away from the checkpoint signing on the hour.
  { topic: 'recordings-sweep', cron: '30 * * * *', everyMs: 60 * 60 * 1000 },
  { topic: 'maintenance-sweep', cron: '15 * * * *', everyMs: 60 * 60 * 1000 },
  // The 1st of each month, 04:00 UTC, away from the nightly backup window: the default of Terraform's
  // restore_drill_schedule, which operators may change.
  // Locally every 24 days: a timer cannot wait longer than 2^31 ms (24.8 days).
  { topic: 'restore-drill', cron: '0 4 1 * *', everyMs: 24 * 24 * 60 * 60 * 1000 },
];
