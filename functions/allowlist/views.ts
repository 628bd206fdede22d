import { z } from 'zod';

export const allowlistView = z.object({
  enabled: z.boolean(),
  entries: z.array(z.object({ cidr: z.string(), label: z.string() })),
});

export const decisionView = z.object({ allowed: z.boolean(), matched: z.string().nullable() });

/** An address field: the domain parses it strictly; zod only bounds it. */
export const ipField = z.string().min(1).max(64);
