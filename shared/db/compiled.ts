import { type Compilable, type CompiledQuery, createQueryId } from 'kysely';
import type { Db } from './connect.js';

/** Runs one statement on a pool of the handle's own (connect.ts registers PostgreSQL pools). */
export type DirectRunner = (
  name: string,
  sql: string,
  parameters: readonly unknown[],
) => Promise<{ rows: unknown[] }>;

const direct = new WeakMap<Db, DirectRunner>();

/**
 * Lets `compiledOnce` queries on `db` run straight on its pool: the same SQL, connection pool and
 * type parsers, without Kysely's executor, provider, driver and connection layers (six async hops
 * and a parameter copy per statement, about 4 µs of a hot request's CPU). Transactions and every
 * other query keep going through Kysely.
 */
export function runCompiledDirectly(db: Db, runner: DirectRunner): void {
  direct.set(db, runner);
}

let statements = 0;

/**
 * A query run on every request whose SQL never changes, only its one parameter (a token or key
 * hash): built and compiled once per database handle, then executed with each call's value. Saves
 * the query builder's work (immutable node trees, compilation) on the hot path.
 */
export function compiledOnce<P, R>(build: (db: Db, value: P) => Compilable<R>) {
  const compiled = new WeakMap<Db, CompiledQuery<R>>();
  // Run directly, it is a named prepared statement: the database parses and plans it once per
  // connection instead of on every request (a join's planning costs more than its execution).
  const name = `sf_hot_${++statements}`;
  return async (db: Db, value: P): Promise<R[]> => {
    let query = compiled.get(db);
    if (!query) {
      query = build(db, value).compile();
      if (query.parameters.length !== 1 || query.parameters[0] !== value) {
        throw new Error('a query compiled once must take exactly its one value as a parameter');
      }
      compiled.set(db, query);
    }
    const runner = direct.get(db);
    if (runner) return (await runner(name, query.sql, [value])).rows as R[];
    const { rows } = await db.executeQuery<R>({ ...query, parameters: [value], queryId: createQueryId() });
    return rows;
  };
}
