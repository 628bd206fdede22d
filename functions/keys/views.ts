import { z } from 'zod';
import { roles } from '../../shared/http/route.js';
import type { IssuedKey } from '../../shared/keys/service.js';
import type { ApiKeyRow } from '../../shared/keys/store.js';

/** Request fields and response shapes of the key routes. Responses never carry a key or its hash. */
export const keyRoleField = z.enum(roles);
export const keyNameField = z.string().trim().min(1).max(100);

export const keyView = z.object({
  id: z.string(),
  name: z.string(),
  role: keyRoleField,
  prefix: z.string(),
  createdAt: z.string(),
  expiresAt: z.string().nullable(),
  lastUsedAt: z.string().nullable(),
});

export const issuedKeyView = z.object({
  id: z.string(),
  name: z.string(),
  role: keyRoleField,
  prefix: z.string(),
  key: z.string(),
  createdAt: z.string(),
  expiresAt: z.string().nullable(),
});

export function toKeyView(row: ApiKeyRow): z.infer<typeof keyView> {
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    prefix: row.display_prefix,
    createdAt: row.created_at.toISOString(),
    expiresAt: row.expires_at?.toISOString() ?? null,
    lastUsedAt: row.last_used_at?.toISOString() ?? null,
  };
}

export function toIssuedKeyView(issued: IssuedKey): z.infer<typeof issuedKeyView> {
  return {
    id: issued.id,
    name: issued.name,
    role: issued.role,
    prefix: issued.prefix,
    key: issued.key,
    createdAt: issued.createdAt.toISOString(),
    expiresAt: issued.expiresAt?.toISOString() ?? null,
  };
}
