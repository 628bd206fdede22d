import { z } from 'zod';
import { roles } from '../../shared/http/route.js';

/** Request fields and response shapes shared by the org routes. */
export const roleField = z.enum(roles);
export const orgIdParam = 'orgId';
export const slugField = z.string().regex(/^[a-z0-9](?:[a-z0-9-]{1,61}[a-z0-9])$/, {
  message: 'must be 3–63 lower-case letters, digits or hyphens, not starting or ending with a hyphen',
});
export const orgNameField = z.string().trim().min(1).max(100);
/** RFC 3339 with an offset; stored as a timestamptz. */
export const timestampField = z.iso.datetime({ offset: true });

export const orgView = z.object({ id: z.string(), name: z.string(), slug: z.string() });

export const memberView = z.object({
  userId: z.string(),
  email: z.string(),
  role: roleField,
  expiresAt: z.string().nullable(),
});

export function toMemberView(m: {
  userId: string;
  email: string;
  role: z.infer<typeof roleField>;
  expiresAt: Date | null;
}) {
  return { userId: m.userId, email: m.email, role: m.role, expiresAt: m.expiresAt?.toISOString() ?? null };
}
