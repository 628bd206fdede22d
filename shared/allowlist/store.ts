import { z } from 'zod';
import type { Tx } from '../bus/outbox.js';
import type { Db } from '../db/connect.js';
import { type AllowlistEntry, entrySchema } from './entries.js';
import './tables.js';

export interface StoredAllowlist {
  enabled: boolean;
  entries: AllowlistEntry[];
}

/** An org that never saved a list has this one: nothing enforced. */
export const NO_ALLOWLIST: StoredAllowlist = { enabled: false, entries: [] };

const entriesColumn = z.array(entrySchema);

/** Allowlist persistence, named by intent. */
export class AllowlistStore {
  constructor(readonly db: Db) {}

  /** The org's list as enforced now (one primary-key read: what each cache fill costs). */
  async forOrg(orgId: string): Promise<StoredAllowlist> {
    const row = await this.db
      .selectFrom('ip_allowlists')
      .select(['enabled', 'entries'])
      .where('org_id', '=', orgId)
      .executeTakeFirst();
    return row ? toStored(row) : NO_ALLOWLIST;
  }

  /**
   * The current list, locked until the transaction ends, so concurrent updates of one org queue
   * and each audit row's "before" is exactly what the previous update wrote.
   */
  async lockForUpdate(tx: Tx, orgId: string, now: Date): Promise<StoredAllowlist> {
    await tx
      .insertInto('ip_allowlists')
      .values({ org_id: orgId, enabled: false, entries: '[]', updated_at: now, updated_by: null })
      .onConflict((oc) => oc.column('org_id').doNothing())
      .execute();
    const row = await tx
      .selectFrom('ip_allowlists')
      .select(['enabled', 'entries'])
      .where('org_id', '=', orgId)
      .forUpdate()
      .executeTakeFirstOrThrow();
    return toStored(row);
  }

  async replace(
    tx: Tx,
    orgId: string,
    list: StoredAllowlist,
    by: { userId: string | null; now: Date },
  ): Promise<void> {
    await tx
      .updateTable('ip_allowlists')
      .set({
        enabled: list.enabled,
        entries: JSON.stringify(list.entries),
        updated_at: by.now,
        updated_by: by.userId,
      })
      .where('org_id', '=', orgId)
      .execute();
  }
}

function toStored(row: { enabled: boolean; entries: unknown }): StoredAllowlist {
  // pg hands jsonb back parsed; be strict about its shape all the same (it is read on every fill).
  const raw = typeof row.entries === 'string' ? JSON.parse(row.entries) : row.entries;
  return { enabled: row.enabled, entries: entriesColumn.parse(raw) };
}
