import { describe, expect, it } from 'vitest';
import { deletionState, purgeDue } from './lifecycle.js';

const at = (iso: string) => new Date(iso);
const deleted = {
  deleted_at: at('2026-06-01T00:00:00Z'),
  purge_after: at('2026-06-08T00:00:00Z'),
  purged_at: null,
};

describe('an org deletion over time', () => {
  it('an org never deleted is live', () => {
    expect(
      deletionState({ deleted_at: null, purge_after: null, purged_at: null }, at('2026-06-01T00:00:00Z')),
    ).toBe('live');
  });

  it('a deleted org is restorable until the last millisecond before purge_after', () => {
    expect(deletionState(deleted, at('2026-06-07T23:59:59.999Z'))).toBe('restorable');
    expect(purgeDue(deleted, at('2026-06-07T23:59:59.999Z'))).toBe(false);
  });

  it('from purge_after on the org is due for the purge and no longer restorable', () => {
    expect(deletionState(deleted, at('2026-06-08T00:00:00Z'))).toBe('purge_due');
    expect(purgeDue(deleted, at('2026-06-08T00:00:00Z'))).toBe(true);
  });

  it('a purged org stays purged whatever the time', () => {
    const purged = { ...deleted, purged_at: at('2026-06-08T01:00:00Z') };
    expect(deletionState(purged, at('2026-06-09T00:00:00Z'))).toBe('purged');
    expect(purgeDue(purged, at('2026-06-09T00:00:00Z'))).toBe(false);
  });
});
