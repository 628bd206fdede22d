import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeEnvelope } from '../../shared/bus/envelope.js';
import type { DbHandle } from '../../shared/db/connect.js';
import { loadMigrations } from '../../shared/db/migrate.js';
import { createLogger } from '../../shared/log/logger.js';
import { openTestDatabase } from '../../tests/helpers/db.js';
import { restoreDrillHandlers } from './handlers.js';

let handle: DbHandle;
beforeAll(async () => {
  handle = await openTestDatabase();
});
afterAll(() => handle?.close());

const tick = () => makeEnvelope('restore-drill', {}, new Date('2026-08-01T04:00:00Z'));

describe('the restore-drill unit', () => {
  it('skips when there is neither a Cloud SQL instance nor a data directory to copy', async () => {
    const handlers = restoreDrillHandlers({ db: handle.db, drill: null, logger: createLogger('silent') });
    expect(await handlers['restore-drill']?.(tick() as never, handle.db as never)).toBeUndefined();
  });

  it('runs the drill after the tick is claimed, expecting the live database’s migration version', async () => {
    const expected: string[] = [];
    const handlers = restoreDrillHandlers({
      db: handle.db,
      drill: (version) => ({
        run: async () => {
          expected.push(version);
          return { id: 'x', status: 'passed', failure: null, chainsVerified: 0 };
        },
      }),
      logger: createLogger('silent'),
    });
    const after = await handlers['restore-drill']?.(tick() as never, handle.db as never);
    expect(expected).toEqual([]);
    await (after as () => Promise<void>)();
    expect(expected).toEqual([loadMigrations().at(-1)?.version]);
  });
});
