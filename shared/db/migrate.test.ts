import { describe, expect, it } from 'vitest';
import { openTestDatabase, testEngine } from '../../tests/helpers/db.js';
import { loadMigrations, migrate } from './migrate.js';

describe('migrations', () => {
  it('are numbered uniquely and in order', () => {
    const versions = loadMigrations().map((m) => m.version);
    expect(versions).toEqual([...new Set(versions)].sort());
    expect(versions[0]).toBe('0001');
  });

  it(`apply once: a second run (also concurrent ones) finds nothing to do (${testEngine})`, async () => {
    const handle = await openTestDatabase();
    try {
      const again = await Promise.all([migrate(handle), migrate(handle)]);
      expect(again).toEqual([[], []]);
      const rows = await handle.db
        .selectFrom('schema_migrations' as never)
        .selectAll()
        .execute();
      expect(rows).toHaveLength(loadMigrations().length);
    } finally {
      await handle.close();
    }
  });
});
