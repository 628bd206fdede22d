import { z } from 'zod';
import type { Tx } from '../bus/outbox.js';
import type { Db } from '../db/connect.js';
import type { Network } from './address.js';
import type { AllowlistEntry } from './entries.js';
import { decodeNetworks, encodeNetworks } from './networks.js';
import './tables.js';

/** The list as admins see it. */
export interface AllowlistView {
  enabled: boolean;
  entries: AllowlistEntry[];
}

/** The list as the request gate needs it: on or off, and the parsed networks. */
export interface EnforcementInput {
  enabled: boolean;
  networks: Network[];
}

const entriesColumn = z.array(z.object({ cidr: z.string(), label: z.string() }));
const networksColumn = z.instanceof(Uint8Array);

/** Allowlist persistence, named by intent. An org that never saved a list has none enforced. */
export class AllowlistStore {
  constructor(readonly db: Db) {}

  async view(orgId: string): Promise<AllowlistView> {
    const row = await this.db
      .selectFrom('ip_allowlists')
      .select(['enabled', 'entries'])
      .where('org_id', '=', orgId)
      .executeTakeFirst();
    return row ? toView(row) : { enabled: false, entries: [] };
  }

  /** One primary-key read of the numeric form: what each cache fill costs. Throws on a malformed row. */
  async enforcementInput(orgId: string): Promise<EnforcementInput> {
    const row = await this.db
      .selectFrom('ip_allowlists')
      .select(['enabled', 'networks'])
      .where('org_id', '=', orgId)
      .executeTakeFirst();
    if (!row) return { enabled: false, networks: [] };
    const networks = decodeNetworks(networksColumn.parse(row.networks));
    if (!networks) throw new Error(`ip_allowlists.networks of org ${orgId} is malformed`);
    return { enabled: row.enabled, networks };
  }

  /**
   * The current list, locked until the transaction ends, so concurrent updates of one org queue
   * and each audit row's "before" is exactly what the previous update wrote.
   */
  async lockForUpdate(tx: Tx, orgId: string, now: Date): Promise<AllowlistView> {
    await tx
      .insertInto('ip_allowlists')
      .values({
        org_id: orgId,
        enabled: false,
        entries: '[]',
        networks: new Uint8Array(0),
        updated_at: now,
        updated_by: null,
      })
      .onConflict((oc) => oc.column('org_id').doNothing())
      .execute();
    const row = await tx
      .selectFrom('ip_allowlists')
      .select(['enabled', 'entries'])
      .where('org_id', '=', orgId)
      .forUpdate()
      .executeTakeFirstOrThrow();
    return toView(row);
  }

  /** `networks` are the parsed `entries`, in the same order. */
  async replace(
    tx: Tx,
    orgId: string,
    list: AllowlistView & { networks: Network[] },
    by: { userId: string | null; now: Date },
  ): Promise<void> {
    await tx
      .updateTable('ip_allowlists')
      .set({
        enabled: list.enabled,
        entries: JSON.stringify(list.entries),
        networks: encodeNetworks(list.networks),
        updated_at: by.now,
        updated_by: by.userId,
      })
      .where('org_id', '=', orgId)
      .execute();
  }
}

function toView(row: { enabled: boolean; entries: unknown }): AllowlistView {
  // pg hands jsonb back parsed; be strict about its shape all the same.
  const raw = typeof row.entries === 'string' ? JSON.parse(row.entries) : row.entries;
  return { enabled: row.enabled, entries: entriesColumn.parse(raw) };
}
