import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase } from '../../tests/helpers/db.js';
import { compiledOnce } from './compiled.js';
import type { Db, DbHandle } from './connect.js';

let handle: DbHandle;
beforeAll(async () => {
  handle = await openTestDatabase();
  await sql`create table compiled_probe (id int8 primary key, hash bytea not null unique, at timestamptz, note text)`.execute(
    handle.db,
  );
  await sql`insert into compiled_probe values (9007199254740991, ${Buffer.from('aa', 'hex')}, '2026-03-02T09:00:00Z', 'é'), (2, ${Buffer.from('bb', 'hex')}, null, null)`.execute(
    handle.db,
  );
});
afterAll(async () => {
  await handle?.close();
});

const byHash = compiledOnce((db: Db, hash: Buffer) =>
  db
    .selectFrom('compiled_probe' as never)
    .select(['id', 'hash', 'at', 'note'] as never[])
    .where('hash' as never, '=', hash as never),
);

describe(`a query compiled once (${process.env.DATABASE_URL ? 'postgres, run on the pool' : 'pglite'})`, () => {
  it('answers the rows, with the types, that the same query through Kysely answers', async () => {
    for (const hex of ['aa', 'bb', 'cc']) {
      const hash = Buffer.from(hex, 'hex');
      const viaKysely = await handle.db
        .selectFrom('compiled_probe' as never)
        .select(['id', 'hash', 'at', 'note'] as never[])
        .where('hash' as never, '=', hash as never)
        .execute();
      expect(await byHash(handle.db, hash)).toEqual(viaKysely);
    }
    const [row] = (await byHash(handle.db, Buffer.from('aa', 'hex'))) as Array<Record<string, unknown>>;
    expect(row).toEqual({
      id: 9007199254740991,
      hash: Buffer.from('aa', 'hex'),
      at: new Date('2026-03-02T09:00:00Z'),
      note: 'é',
    });
  });

  it('runs inside a transaction on that transaction, and sees its uncommitted rows', async () => {
    await handle.db
      .transaction()
      .execute(async (tx) => {
        await sql`insert into compiled_probe values (3, ${Buffer.from('dd', 'hex')}, null, 'in tx')`.execute(
          tx,
        );
        expect(await byHash(tx, Buffer.from('dd', 'hex'))).toHaveLength(1);
        throw new Error('roll back');
      })
      .catch(() => undefined);
    expect(await byHash(handle.db, Buffer.from('dd', 'hex'))).toEqual([]);
  });

  it('refuses a query whose one value is not its only parameter', async () => {
    const twoValues = compiledOnce((db: Db, hash: Buffer) =>
      db
        .selectFrom('compiled_probe' as never)
        .select(['id'] as never[])
        .where('hash' as never, '=', hash as never)
        .where('id' as never, '=', 2 as never),
    );
    await expect(twoValues(handle.db, Buffer.from('bb', 'hex'))).rejects.toThrow(/exactly its one value/);
  });
});
