import { createHash } from 'node:crypto';
import type { Envelope } from './envelope.js';
import { schedules, type Topic } from './topics.js';

/**
 * Cloud Scheduler publishes the same fixed body on every tick (infra/scheduler.tf marks it with the
 * `scheduled` attribute), so a tick carries no envelope of its own. Its envelope id is derived from
 * the Pub/Sub message id, unique per publish and stable across redeliveries, which keeps consumers
 * idempotent. Only topics in `schedules` accept ticks.
 */
export function scheduledTickEnvelope(topic: Topic, messageId: string, time: string): Envelope | null {
  if (!schedules.some((schedule) => schedule.topic === topic)) return null;
  const hex = createHash('sha256').update(`scheduled:${topic}:${messageId}`).digest('hex');
  // RFC 9562 version 8 (custom) UUID: version nibble 8, variant bits 10.
  const variant = ((Number.parseInt(hex.charAt(16), 16) & 0x3) | 0x8).toString(16);
  const id = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  return { id, type: `sessionforge.${topic}`, time, data: {} };
}
