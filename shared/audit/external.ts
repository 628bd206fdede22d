import { z } from 'zod';
import type { TypedEnvelope } from '../bus/envelope.js';
import { orgActionSchema } from './actions.js';
import type { AuditEvent } from './append.js';
import { orgMetadataSchemas } from './metadata.js';

export type ExternalEventResult = { ok: true; event: AuditEvent } | { ok: false; reason: string };

/**
 * An `audit-events` message from another SessionForge service becomes an org event only if its
 * org id, action (closed org list) and that action's metadata are valid; anything else is refused
 * with a reason, since redelivering it could never succeed.
 */
export function externalOrgEvent(envelope: TypedEnvelope<'audit-events'>): ExternalEventResult {
  const orgId = z.uuid().safeParse(envelope.orgId);
  if (!orgId.success) return { ok: false, reason: 'envelope.orgId must be an org id' };
  const action = orgActionSchema.safeParse(envelope.data.action);
  if (!action.success) return { ok: false, reason: `action ${envelope.data.action} is not an org action` };
  const metadata = orgMetadataSchemas[action.data].safeParse(envelope.data.metadata);
  if (!metadata.success) {
    return { ok: false, reason: `metadata: ${metadata.error.issues[0]?.message ?? 'invalid'}` };
  }
  const { data } = envelope;
  if ((data.targetType === null) !== (data.targetId === null)) {
    return { ok: false, reason: 'targetType and targetId go together' };
  }
  return {
    ok: true,
    event: {
      orgId: orgId.data,
      action: action.data,
      actor: { type: data.actorType, id: data.actorId },
      ...(data.targetType !== null && data.targetId !== null
        ? { target: { type: data.targetType, id: data.targetId } }
        : {}),
      metadata: data.metadata,
      ip: data.ip,
      // When it happened at the producer; the chain order is the order it arrived in.
      now: new Date(envelope.time),
    },
  };
}
