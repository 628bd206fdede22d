import type { Tx } from '../bus/outbox.js';
import type { Db } from './connect.js';

/**
 * Does a batch of items in one transaction and answers one result per item, in order. It may run
 * more than once for an item (see GroupCommitter), so it must do all its work through `tx`.
 */
export type BatchWork<Item, Result> = (tx: Tx, items: Item[]) => Promise<Result[]>;

interface Pending<Item, Result> {
  item: Item;
  resolve: (value: Result) => void;
  reject: (error: unknown) => void;
}

/** At most this many items share one transaction, so one batch never grows without bound. */
const MAX_BATCH = 64;

/**
 * Group commit for work that serializes on one row anyway (an audit chain's head). Items with the
 * same key that arrive while that key's transaction is in flight wait and then go together to the
 * next one, which commits once: the row is locked for one commit per batch instead of one per item,
 * and the first item never waits for company (a lone item runs at once, alone). The batch work
 * sees the whole batch, so it can also write it in fewer statements.
 *
 * Each item still commits or fails on its own: if the batch throws (or its commit does), it rolls
 * back and every item of it runs again alone in its own transaction, so only a failing one fails.
 * Keys are per process: other instances' items still queue on the database row lock as before.
 */
export class GroupCommitter<Item, Result> {
  readonly #queues = new Map<string, Pending<Item, Result>[]>();

  constructor(
    private readonly db: Db,
    private readonly work: BatchWork<Item, Result>,
  ) {}

  run(key: string, item: Item): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      const queue = this.#queues.get(key);
      const pending = { item, resolve, reject };
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
    const queue = this.#queues.get(key) as Pending<Item, Result>[];
    while (queue.length > 0) {
      const batch = queue.splice(0, MAX_BATCH);
      if (batch.length === 1) await this.#alone(batch[0] as Pending<Item, Result>);
      else await this.#together(batch);
    }
    this.#queues.delete(key);
  }

  async #together(batch: Pending<Item, Result>[]): Promise<void> {
    let results: Result[];
    try {
      results = await this.#commit(batch.map((p) => p.item));
    } catch {
      for (const pending of batch) await this.#alone(pending);
      return;
    }
    for (const [i, pending] of batch.entries()) pending.resolve(results[i] as Result);
  }

  async #alone(pending: Pending<Item, Result>): Promise<void> {
    try {
      const [result] = await this.#commit([pending.item]);
      pending.resolve(result as Result);
    } catch (error) {
      pending.reject(error);
    }
  }

  async #commit(items: Item[]): Promise<Result[]> {
    return this.db.transaction().execute(async (tx) => {
      const results = await this.work(tx, items);
      if (results.length !== items.length) throw new Error('a batch must answer once per item');
      return results;
    });
  }
}
