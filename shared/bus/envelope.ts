import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { type Topic, type TopicData, type TopicInput, topicSchemas } from './topics.js';

/** CloudEvents-style envelope carried on every topic: `{id, type, time, orgId?, data}`. */
export const envelopeSchema = z.object({
  id: z.uuid(),
  type: z.string().min(1),
  time: z.iso.datetime({ offset: true }),
  orgId: z.string().optional(),
  data: z.unknown(),
});
export type Envelope = z.infer<typeof envelopeSchema>;
export type TypedEnvelope<T extends Topic> = Omit<Envelope, 'data'> & { data: TopicData<T> };

export function makeEnvelope<T extends Topic>(
  topic: T,
  data: TopicInput<T>,
  now: Date,
  orgId?: string,
): TypedEnvelope<T> {
  const parsed = topicSchemas[topic].parse(data) as TopicData<T>;
  return {
    id: randomUUID(),
    type: `sessionforge.${topic}`,
    time: now.toISOString(),
    ...(orgId ? { orgId } : {}),
    data: parsed,
  };
}

export type ParseResult<T extends Topic> =
  | { ok: true; envelope: TypedEnvelope<T> }
  | { ok: false; reason: string };

/** Validates an envelope read off the wire; consumers ack and drop what fails (it would never parse). */
export function parseEnvelope<T extends Topic>(topic: T, raw: unknown): ParseResult<T> {
  const envelope = envelopeSchema.safeParse(raw);
  if (!envelope.success) return { ok: false, reason: `envelope: ${envelope.error.issues[0]?.message}` };
  const data = topicSchemas[topic].safeParse(envelope.data.data);
  if (!data.success) return { ok: false, reason: `data: ${data.error.issues[0]?.message}` };
  return { ok: true, envelope: { ...envelope.data, data: data.data as TopicData<T> } };
}
