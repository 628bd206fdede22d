import { AsyncLocalStorage } from 'node:async_hooks';
import type { Topic } from './topics.js';

/**
 * The topics each unit's code publishes (through the outbox), and nothing else: infra grants each
 * unit's service account `roles/pubsub.publisher` on exactly these topics (infra/units.tf
 * `publishes`, checked by tests/infra), and a deployed unit's outbox relay drains only these.
 * In the local runtime every enqueue made while a unit handles a request or an event is checked
 * against this table, so the e2e suite fails when code starts publishing where infra would refuse.
 *
 * `session-revoked` is everywhere an org route is: the org gate ends a session idle in that org
 * (shared/orgs/gate.ts). `webhook-deliveries` is everywhere an org's audit chain (or a sign-in
 * event an org receives) is appended: the append queues the org's webhook deliveries
 * (shared/webhooks/enqueue.ts). `audit-events` is no unit's: other SessionForge services publish there
 * (infra/variables.tf `audit_event_publishers`).
 */
export const unitPublishes: Readonly<Record<string, readonly Topic[]>> = {
  meta: [],
  // Verification and reset mail; a reset or password change ends sessions.
  accounts: ['mail-outbox', 'session-revoked', 'webhook-deliveries'],
  // New-device mail; logout, the org session cap and SSO settings (an org route) end sessions.
  login: ['mail-outbox', 'session-revoked', 'webhook-deliveries'],
  sessions: ['session-revoked', 'webhook-deliveries'],
  // Invitation mail; removals, demotions and the admin session view end sessions.
  orgs: ['mail-outbox', 'session-revoked', 'webhook-deliveries'],
  audit: ['session-revoked', 'webhook-deliveries'],
  keys: ['session-revoked', 'webhook-deliveries'],
  recordings: ['recording-stopped', 'session-revoked', 'webhook-deliveries'],
  allowlist: ['allowlist-changed', 'session-revoked', 'webhook-deliveries'],
  'audit-consumer': ['webhook-deliveries'],
  notify: [],
  // The org purge closes the chain with org.deleted.
  revocations: ['webhook-deliveries'],
  // The hourly sweep stops idle recordings, which queues their archiving.
  archive: ['recording-stopped', 'webhook-deliveries'],
  // A missing backup raises an alert.
  'backup-verify': ['security-events'],
  // The monthly drill records and audits its result in the database; its alert is a log metric.
  'restore-drill': [],
  // Disabling a failing endpoint is audited (and so delivered elsewhere) and mails the org's admins.
  webhooks: ['mail-outbox', 'webhook-deliveries'],
};

const currentUnit = new AsyncLocalStorage<string>();

/** Runs `fn` as `unit`'s code (the local gateway and bus), so enqueue can hold it to its topics. */
export function runAsUnit<T>(unit: string, fn: () => T): T {
  return currentUnit.run(unit, fn);
}

/**
 * Throws when the unit running this code may not publish `topic`: a programming error that would
 * leave the event stuck in the outbox (and the publish refused by IAM) once deployed.
 */
export function assertUnitMayPublish(topic: Topic): void {
  const unit = currentUnit.getStore();
  if (unit === undefined) return;
  if (!unitPublishes[unit]?.includes(topic)) {
    throw new Error(
      `unit ${unit} publishes to ${topic}, which shared/bus/publishers.ts (and so its IAM) does not allow`,
    );
  }
}

/** The topics a deployed unit's outbox relay drains; every topic when the unit is not known. */
export function relayTopics(unit: string | undefined): readonly Topic[] | null {
  if (unit === undefined) return null;
  return unitPublishes[unit] ?? null;
}
