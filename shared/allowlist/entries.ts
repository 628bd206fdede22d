import { z } from 'zod';
import type { Issue } from '../errors/codes.js';
import { type Cidr, parseEntry } from './address.js';

/** The most entries one org's list may hold (the benchmark's size: compiling it stays under 20 ms). */
export const MAX_ENTRIES = 10_000;

/** An entry as callers send and see it (and as the audit log records it). */
export const entrySchema = z.strictObject({
  cidr: z.string().min(1).max(64),
  label: z
    .string()
    .trim()
    .max(100)
    .refine((label) => !/\p{Cc}/u.test(label), 'must not contain control characters')
    .default(''),
});
export type AllowlistEntry = z.output<typeof entrySchema>;

/** An entry whose stored form differs from what the caller sent (host bits, case, zero runs, /32). */
export interface Normalization {
  index: number;
  from: string;
  to: string;
  reason: 'host_bits_cleared' | 'rewritten';
}

export type CheckedEntries =
  | { ok: true; entries: AllowlistEntry[]; networks: Cidr[]; normalized: Normalization[] }
  | { ok: false; issues: Issue[] };

/**
 * Validates every entry (reporting each invalid one by index) and returns the canonical list and,
 * in the same order, its parsed networks.
 */
export function checkEntries(input: readonly AllowlistEntry[]): CheckedEntries {
  const issues: Issue[] = [];
  const entries: AllowlistEntry[] = [];
  const networks: Cidr[] = [];
  const normalized: Normalization[] = [];
  input.forEach((entry, index) => {
    const parsed = parseEntry(entry.cidr);
    if (!parsed.ok) {
      issues.push({ path: `entries.${index}.cidr`, message: parsed.message });
      return;
    }
    networks.push(parsed.cidr);
    entries.push({ cidr: parsed.cidr.cidr, label: entry.label });
    if (parsed.cidr.cidr !== entry.cidr) {
      normalized.push({
        index,
        from: entry.cidr,
        to: parsed.cidr.cidr,
        reason: parsed.hostBitsCleared ? 'host_bits_cleared' : 'rewritten',
      });
    }
  });
  return issues.length > 0 ? { ok: false, issues } : { ok: true, entries, networks, normalized };
}
