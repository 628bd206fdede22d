import type { Tx } from '../bus/outbox.js';
import type { Db } from './connect.js';

/** A unit of work for one transaction. It may run more than once, so it must not act outside it. */
export type TransactionWork<T> = (tx: Tx) => Promise<T>;

interface Pending {
  work: TransactionWork<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** At most this many units share one transaction, so one batch never grows without bound. */
const MAX_BATCH = 64;

/**
 * Group commit for work that serializes on one row anyway (an audit chain's head). Units with the
 * same key that arrive while that key's transaction is in flight wait and then run together in the
 * next one, one after another, and commit once: the row is locked for one commit per batch instead
 * of one per unit, and the first unit never waits for company (a lone unit runs at once, alone).
 *
 * Each unit still commits or fails on its own: if any unit of a batch throws (or the commit does),
 * the batch rolls back and every unit of it runs again in its own transaction, so only the failing
 * one fails. Units are therefore re-runnable and must do all their work through the given `tx`.
 * Keys are per process: other instances' units still queue on the database row lock as before.
 */
export class GroupCommitter {
  readonly #queues = new Map<string, Pending[]>();

  constructor(private readonly db: Db) {}

  run<T>(key: string, work: TransactionWork<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const queue = this.#queues.get(key);
      const pending = { work, resolve, reject } as Pending;
      if (queue) {
        queue.push(pending);
        return;
      }
      // Nobody is committing for this key: start now, and let later arrivals queue behind.
      this.#queues.set(key, [pending]);
      void this.#drain(key);
    });
  }

  async #drain(key: string): Promise<void> {
    const queue = this.#queues.get(key) as Pending[];
    while (queue.length > 0) {
      const batch = queue.splice(0, MAX_BATCH);
      if (batch.length === 1) await this.#alone(batch[0] as Pending);
      else await this.#together(batch);
    }
    this.#queues.delete(key);
  }

  async #together(batch: Pending[]): Promise<void> {
    let results: unknown[];
    try {
      results = await this.db.transaction().execute(async (tx) => {
        const out: unknown[] = [];
        for (const { work } of batch) out.push(await work(tx));
        return out;
      });
    } catch {
      for (const pending of batch) await this.#alone(pending);
      return;
    }
    for (const [i, pending] of batch.entries()) pending.resolve(results[i]);
  }

  async #alone(pending: Pending): Promise<void> {
    try {
      pending.resolve(await this.db.transaction().execute(pending.work));
    } catch (error) {
      pending.reject(error);
    }
  }
}
