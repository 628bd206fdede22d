import type { Tx } from '../bus/outbox.js';
import { compiledOnce } from '../db/compiled.js';
import type { Db } from '../db/connect.js';
import type { OrgRole } from '../orgs/model.js';
import '../orgs/tables.js';
import { LAST_USED_RESOLUTION_SECONDS } from './model.js';
import type { ApiKeysTable } from './tables.js';
import './tables.js';

export type ApiKeyRow = ApiKeysTable;

/** The columns verification needs: one indexed read by hash. */
export type KeyForVerify = Pick<
  ApiKeyRow,
  'id' | 'org_id' | 'name' | 'role' | 'key_hash' | 'expires_at' | 'revoked_at' | 'last_used_at' | 'created_by'
> & { creator_role: OrgRole | null; creator_expires_at: Date | null };

// The creator's membership comes in the same indexed read (its primary key): a key lives only
// while its creator's membership does, and an expiring membership ends with no write to revoke it.
const byHash = compiledOnce((db: Db, keyHash: Buffer) =>
  db
    .selectFrom('api_keys')
    .leftJoin('memberships as creator', (join) =>
      join
        .onRef('creator.org_id', '=', 'api_keys.org_id')
        .onRef('creator.user_id', '=', 'api_keys.created_by'),
    )
    .select([
      'api_keys.id',
      'api_keys.org_id',
      'api_keys.name',
      'api_keys.role',
      'api_keys.key_hash',
      'api_keys.expires_at',
      'api_keys.revoked_at',
      'api_keys.last_used_at',
      'api_keys.created_by',
      'creator.role as creator_role',
      'creator.expires_at as creator_expires_at',
    ])
    .where('api_keys.key_hash', '=', keyHash),
);

/** API key persistence, named by intent. Ids reaching here are uuid-shaped (checked by the service). */
export class ApiKeyStore {
  constructor(readonly db: Db) {}

  async insert(tx: Tx, row: ApiKeyRow): Promise<void> {
    await tx.insertInto('api_keys').values(row).execute();
  }

  /** Every verification's lookup (compiled once: the SQL never changes, only the hash). */
  async findByHash(keyHash: Buffer): Promise<KeyForVerify | null> {
    const [row] = await byHash(this.db, keyHash);
    return row ?? null;
  }

  /** The org's keys that are not revoked (expired ones included, so admins see and delete them). */
  async listLive(orgId: string): Promise<ApiKeyRow[]> {
    return this.db
      .selectFrom('api_keys')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('revoked_at', 'is', null)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
  }

  /** Revokes one live key of the org; null when there is none (unknown, other org's, or revoked). */
  async revoke(tx: Tx, orgId: string, id: string, by: string | null, now: Date): Promise<ApiKeyRow | null> {
    const row = await tx
      .updateTable('api_keys')
      .set({ revoked_at: now, revoked_by: by })
      .where('id', '=', id)
      .where('org_id', '=', orgId)
      .where('revoked_at', 'is', null)
      .returningAll()
      .executeTakeFirst();
    return row ?? null;
  }

  /**
   * Records a use unless one was recorded in the last minute. The condition is in the UPDATE
   * itself, so concurrent uses on many instances still write at most once a minute.
   */
  async touchLastUsed(id: string, now: Date): Promise<boolean> {
    const cutoff = new Date(now.getTime() - LAST_USED_RESOLUTION_SECONDS * 1000);
    const result = await this.db
      .updateTable('api_keys')
      .set({ last_used_at: now })
      .where('id', '=', id)
      .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<=', cutoff)]))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }
}
