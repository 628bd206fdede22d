import type { OrgsTable } from './tables.js';

export type DeletionState = 'live' | 'restorable' | 'purge_due' | 'purged';

type DeletionFields = Pick<OrgsTable, 'deleted_at' | 'purge_after' | 'purged_at'>;

/**
 * Where an org stands in its deletion at `now`: restorable until `purge_after` (exclusive), then
 * due for the purge until the sweep has run.
 */
export function deletionState(org: DeletionFields, now: Date): DeletionState {
  if (org.purged_at) return 'purged';
  if (!org.deleted_at || !org.purge_after) return 'live';
  return now.getTime() < org.purge_after.getTime() ? 'restorable' : 'purge_due';
}

export function purgeDue(org: DeletionFields, now: Date): boolean {
  return deletionState(org, now) === 'purge_due';
}
