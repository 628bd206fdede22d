import { z } from 'zod';
import type { StoredRow } from '../../../shared/audit/store.js';

/** API.md "audit": one event as the list routes return it. */
export const auditEventView = z.object({
  id: z.string(),
  seq: z.number(),
  action: z.string(),
  actorId: z.string().nullable(),
  actorType: z.enum(['user', 'api_key', 'system']),
  targetType: z.string().nullable(),
  targetId: z.string().nullable(),
  metadata: z.record(z.string(), z.unknown()),
  ip: z.string().nullable(),
  createdAt: z.string(),
  hash: z.string(),
  prevHash: z.string(),
});

export const auditPageView = z.object({ events: z.array(auditEventView), nextCursor: z.string().nullable() });

export function toAuditEventView(row: StoredRow): z.infer<typeof auditEventView> {
  return {
    id: row.id,
    seq: row.seq,
    action: row.action,
    actorId: row.actorId,
    actorType: row.actorType,
    targetType: row.targetType,
    targetId: row.targetId,
    metadata: row.metadata,
    ip: row.ip,
    createdAt: row.createdAt,
    hash: row.hash,
    prevHash: row.prevHash,
  };
}

/** Query string of the list routes; `actions` is the chain's closed action list. */
export function auditQuery<const A extends readonly [string, ...string[]]>(actions: A) {
  return z
    .strictObject({
      action: z.enum(actions).optional(),
      actorId: z.string().min(1).max(200).optional(),
      since: z.iso.datetime({ offset: true }).optional(),
      until: z.iso.datetime({ offset: true }).optional(),
      cursor: z
        .string()
        .regex(/^[1-9][0-9]{0,14}$/, 'not a cursor from a previous page')
        .optional(),
      limit: z.coerce.number().int().min(1).max(200).default(50),
    })
    .refine((q) => !q.since || !q.until || Date.parse(q.since) < Date.parse(q.until), {
      message: 'since must be before until',
      path: ['until'],
    });
}

export type AuditQuery = z.infer<ReturnType<typeof auditQuery>>;

export function listFilters(query: AuditQuery) {
  return {
    ...(query.action ? { action: query.action } : {}),
    ...(query.actorId ? { actorId: query.actorId } : {}),
    ...(query.since ? { since: new Date(query.since) } : {}),
    ...(query.until ? { until: new Date(query.until) } : {}),
    ...(query.cursor ? { cursor: Number(query.cursor) } : {}),
    limit: query.limit,
  };
}

export const verifyReportView = z.object({
  valid: z.boolean(),
  count: z.number(),
  headHash: z.string().nullable(),
  brokenAtSeq: z.number().nullable(),
  reason: z.string().nullable(),
  checkpoint: z
    .object({
      seq: z.number(),
      hash: z.string(),
      time: z.string(),
      keyId: z.string().nullable(),
      signatureValid: z.boolean(),
    })
    .nullable(),
});
