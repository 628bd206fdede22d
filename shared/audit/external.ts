import { z } from 'zod';
import type { TypedEnvelope } from '../bus/envelope.js';
import { externalOrgActionSchema } from './actions.js';
import type { AuditEvent } from './append.js';
import { orgMetadataSchemas } from './metadata.js';

export type ExternalEventResult = { ok: true; event: AuditEvent } | { ok: false; reason: string };

/**
 * An `audit-events` message from another SessionForge service becomes an org event only if its
 * org id is valid, its action is one of the external ones (never an action this product writes
 * itself, such as `member.role_changed`) and that action's metadata is valid; anything else is
 * refused with a reason, since redelivering it could never succeed.
 *
 * The row's time is `now`, when the chain received it: a producer cannot place its event at a
 * time of its choosing in our chain. The time it claims goes into `metadata.occurredAt`.
 */
export function externalOrgEvent(envelope: TypedEnvelope<'audit-events'>, now: Date): ExternalEventResult {
  const orgId = z.uuid().safeParse(envelope.orgId);
  if (!orgId.success) return { ok: false, reason: 'envelope.orgId must be an org id' };
  const action = externalOrgActionSchema.safeParse(envelope.data.action);
  if (!action.success) {
    return { ok: false, reason: `action ${envelope.data.action} is not one other services may append` };
  }
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
      metadata: { ...data.metadata, occurredAt: envelope.time },
      ip: data.ip,
      now,
    },
  };
}
