import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase } from '../../tests/helpers/db.js';
import type { Tx } from '../bus/outbox.js';
import type { DbHandle } from './connect.js';
import { GroupCommitter } from './group-commit.js';

let handle: DbHandle;
beforeAll(async () => {
  handle = await openTestDatabase();
  await sql`create table group_commit_probe (id int primary key, note text not null)`.execute(handle.db);
});
afterAll(async () => {
  await handle?.close();
});

/** A committer whose items are functions of the transaction, run one after another. */
const unitCommitter = () =>
  new GroupCommitter<(tx: Tx) => Promise<unknown>, unknown>(handle.db, async (tx, units) => {
    const results: unknown[] = [];
    for (const unit of units) results.push(await unit(tx));
    return results;
  });

/** Inserts a row and returns the id of the transaction it ran in. */
const insertRow = (id: number) => async (tx: Tx) => {
  await tx
    .insertInto('group_commit_probe' as never)
    .values({ id, note: `row ${id}` } as never)
    .execute();
  const { rows } = await sql<{ txid: string }>`select txid_current()::text as txid`.execute(tx);
  return rows[0]?.txid as string;
};

const storedIds = async (from: number, to: number) =>
  (
    await sql<{
      id: number;
    }>`select id from group_commit_probe where id between ${from} and ${to} order by id`.execute(handle.db)
  ).rows.map((r) => r.id);

describe('GroupCommitter', () => {
  it('runs the first unit at once and alone, and those arriving meanwhile in one shared transaction', async () => {
    const committer = unitCommitter();
    const txids = await Promise.all(
      Array.from({ length: 9 }, (_, i) => committer.run('k', insertRow(100 + i))),
    );
    expect(new Set(txids.slice(1)).size).toBe(1);
    expect(txids[0]).not.toBe(txids[1]);
    expect(await storedIds(100, 108)).toEqual([100, 101, 102, 103, 104, 105, 106, 107, 108]);
  });

  it('fails only the unit that throws: the rest of its batch commits, its own writes do not', async () => {
    const committer = unitCommitter();
    const failing = async (tx: Tx) => {
      await insertRow(203)(tx);
      throw new Error('unit 203 refuses');
    };
    const outcomes = await Promise.allSettled([
      committer.run('k', insertRow(200)),
      committer.run('k', insertRow(201)),
      committer.run('k', insertRow(202)),
      committer.run('k', failing),
      committer.run('k', insertRow(204)),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
    ]);
    expect((outcomes[3] as PromiseRejectedResult).reason).toEqual(new Error('unit 203 refuses'));
    expect(await storedIds(200, 204)).toEqual([200, 201, 202, 204]);
  });

  it('a unit whose statement fails (an aborted transaction) does not take its batch down with it', async () => {
    const committer = unitCommitter();
    const outcomes = await Promise.allSettled([
      committer.run('k', insertRow(300)),
      committer.run('k', insertRow(301)),
      committer.run('k', insertRow(300)), // duplicate key: the database refuses it
      committer.run('k', insertRow(302)),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect(await storedIds(300, 302)).toEqual([300, 301, 302]);
  });

  it('never puts units of different keys in one transaction', async () => {
    const committer = unitCommitter();
    const [a1, a2, b1, b2, a3, b3] = await Promise.all([
      committer.run('a', insertRow(400)),
      committer.run('a', insertRow(401)),
      committer.run('b', insertRow(402)),
      committer.run('b', insertRow(403)),
      committer.run('a', insertRow(404)),
      committer.run('b', insertRow(405)),
    ]);
    expect(a2).toBe(a3);
    expect(b2).toBe(b3);
    expect(new Set([a1, a2, b1, b2]).size).toBe(4);
  });
});
