import { z } from 'zod';
import { idleExpiresAt } from '../sessions/model.js';
import type { SessionRow } from '../sessions/store.js';

/** Response shapes several units return, as zod schemas so OpenAPI documents them. */
export const userView = z.object({ id: z.string(), email: z.string(), name: z.string() });

export const sessionView = z.object({
  id: z.string(),
  createdAt: z.string(),
  lastSeenAt: z.string(),
  expiresAt: z.string(),
  idleExpiresAt: z.string(),
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
  country: z.string().nullable(),
  city: z.string().nullable(),
  deviceId: z.string().nullable(),
  sudoUntil: z.string().nullable(),
  /** 'impossible_travel': the session must step up (or be confirmed by mail) before it may act. */
  stepUpReason: z.enum(['impossible_travel']).nullable(),
});

export function toSessionView(row: SessionRow): z.infer<typeof sessionView> {
  return {
    id: row.id,
    createdAt: row.created_at.toISOString(),
    lastSeenAt: row.last_seen_at.toISOString(),
    expiresAt: row.expires_at.toISOString(),
    idleExpiresAt: idleExpiresAt({
      lastSeenAt: row.last_seen_at,
      idleTimeoutMinutes: row.idle_timeout_minutes,
      expiresAt: row.expires_at,
    }).toISOString(),
    ip: row.ip,
    userAgent: row.user_agent,
    country: row.country,
    city: row.city,
    deviceId: row.device_id,
    sudoUntil: row.sudo_until?.toISOString() ?? null,
    stepUpReason: row.step_up_reason,
  };
}
