import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Tx } from '../bus/outbox.js';
import type { Db } from '../db/connect.js';
import type { PasskeyView } from './model.js';
import type { ChallengePurpose, PasskeyCredentialsTable } from './tables.js';
import '../orgs/tables.js';
import './tables.js';

export interface Passkey {
  id: string;
  userId: string;
  credentialId: string;
  publicKey: Uint8Array<ArrayBuffer>;
  signCount: number;
  transports: string[];
  backupEligible: boolean;
  backedUp: boolean;
  aaguid: string;
  name: string;
  createdAt: Date;
  lastUsedAt: Date | null;
}

export type NewPasskey = Omit<Passkey, 'id' | 'lastUsedAt'>;

const transportsSchema = z.array(z.string());

function toPasskey(row: PasskeyCredentialsTable): Passkey {
  return {
    id: row.id,
    userId: row.user_id,
    credentialId: row.credential_id,
    publicKey: new Uint8Array(row.public_key),
    signCount: Number(row.sign_count),
    transports: transportsSchema.parse(
      typeof row.transports === 'string' ? JSON.parse(row.transports) : row.transports,
    ),
    backupEligible: row.backup_eligible,
    backedUp: row.backed_up,
    aaguid: row.aaguid,
    name: row.name,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
  };
}

export function toPasskeyView(passkey: Passkey): PasskeyView {
  return {
    id: passkey.id,
    name: passkey.name,
    createdAt: passkey.createdAt.toISOString(),
    lastUsedAt: passkey.lastUsedAt?.toISOString() ?? null,
    backedUp: passkey.backedUp,
  };
}

/** Passkey credentials and ceremony challenges, named by intent. */
export class PasskeyStore {
  constructor(readonly db: Db) {}

  /** Null when the credential id is registered already (to this account or another). */
  async insert(tx: Tx, input: NewPasskey): Promise<Passkey | null> {
    const row = await tx
      .insertInto('passkey_credentials')
      .values({
        id: randomUUID(),
        user_id: input.userId,
        credential_id: input.credentialId,
        public_key: Buffer.from(input.publicKey),
        sign_count: input.signCount,
        transports: JSON.stringify(input.transports),
        backup_eligible: input.backupEligible,
        backed_up: input.backedUp,
        aaguid: input.aaguid,
        name: input.name,
        created_at: input.createdAt,
        last_used_at: null,
      })
      .onConflict((oc) => oc.column('credential_id').doNothing())
      .returningAll()
      .executeTakeFirst();
    return row ? toPasskey(row) : null;
  }

  async listForUser(userId: string): Promise<Passkey[]> {
    const rows = await this.db
      .selectFrom('passkey_credentials')
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(toPasskey);
  }

  async byCredentialId(credentialId: string): Promise<Passkey | null> {
    const row = await this.db
      .selectFrom('passkey_credentials')
      .selectAll()
      .where('credential_id', '=', credentialId)
      .executeTakeFirst();
    return row ? toPasskey(row) : null;
  }

  /** The user's passkey `id`, locked for a change; another user's passkey does not exist. */
  async lockOwned(tx: Tx, userId: string, id: string): Promise<Passkey | null> {
    const row = await tx
      .selectFrom('passkey_credentials')
      .selectAll()
      .where('id', '=', id)
      .where('user_id', '=', userId)
      .forUpdate()
      .executeTakeFirst();
    return row ? toPasskey(row) : null;
  }

  async rename(tx: Tx, id: string, name: string): Promise<Passkey> {
    const row = await tx
      .updateTable('passkey_credentials')
      .set({ name })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    return toPasskey(row);
  }

  async delete(tx: Tx, id: string): Promise<void> {
    await tx.deleteFrom('passkey_credentials').where('id', '=', id).execute();
  }

  /** Account deletion: every passkey of the user goes, with its open challenges. */
  async deleteAllForUser(tx: Tx, userId: string): Promise<number> {
    await tx.deleteFrom('passkey_challenges').where('user_id', '=', userId).execute();
    const deleted = await tx
      .deleteFrom('passkey_credentials')
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return Number(deleted.numDeletedRows);
  }

  /** How many passkeys the user has, their rows locked: two removals at once cannot both see a spare. */
  async lockCountForUser(tx: Tx, userId: string): Promise<number> {
    const rows = await tx
      .selectFrom('passkey_credentials')
      .select('id')
      .where('user_id', '=', userId)
      .forUpdate()
      .execute();
    return rows.length;
  }

  /** Names of the user's orgs whose policy requires a passkey. */
  async orgsRequiringPasskey(tx: Tx, userId: string): Promise<string[]> {
    const rows = await tx
      .selectFrom('memberships')
      .innerJoin('orgs', 'orgs.id', 'memberships.org_id')
      .select('orgs.slug')
      .where('memberships.user_id', '=', userId)
      .where('orgs.require_passkey', '=', true)
      .execute();
    return rows.map((r) => r.slug);
  }

  /**
   * Records a verified use. The counter moves only forward (compare-and-set), so of two concurrent
   * assertions with the same counter exactly one is accepted.
   */
  async recordUse(
    id: string,
    use: { storedCount: number; newCount: number; backedUp: boolean; now: Date },
  ): Promise<boolean> {
    const updated = await this.db
      .updateTable('passkey_credentials')
      .set({ sign_count: use.newCount, backed_up: use.backedUp, last_used_at: use.now })
      .where('id', '=', id)
      .where('sign_count', '=', use.storedCount)
      .executeTakeFirst();
    return Number(updated.numUpdatedRows) === 1;
  }

  async insertChallenge(input: {
    purpose: ChallengePurpose;
    challengeHash: Buffer;
    sessionId: string | null;
    userId: string | null;
    expiresAt: Date;
    now: Date;
  }): Promise<string> {
    const id = randomUUID();
    await this.db.deleteFrom('passkey_challenges').where('expires_at', '<=', input.now).execute();
    await this.db
      .insertInto('passkey_challenges')
      .values({
        id,
        purpose: input.purpose,
        challenge_hash: input.challengeHash,
        session_id: input.sessionId,
        user_id: input.userId,
        expires_at: input.expiresAt,
        used_at: null,
      })
      .execute();
    return id;
  }

  /**
   * Uses a live challenge once: the conditional UPDATE lets exactly one of two concurrent uses
   * through. Selected by id (sign-in, step-up) or by the hash of the challenge the client signed
   * (registration); session-bound challenges only for their own session.
   */
  async useChallenge(
    select: { purpose: ChallengePurpose; sessionId: string | null } & (
      | { id: string }
      | { challengeHash: Buffer }
    ),
    now: Date,
  ): Promise<Buffer | null> {
    let query = this.db
      .updateTable('passkey_challenges')
      .set({ used_at: now })
      .where('purpose', '=', select.purpose)
      .where('used_at', 'is', null)
      .where('expires_at', '>', now);
    query =
      'id' in select
        ? query.where('id', '=', select.id)
        : query.where('challenge_hash', '=', select.challengeHash);
    query =
      select.sessionId === null
        ? query.where('session_id', 'is', null)
        : query.where('session_id', '=', select.sessionId);
    const row = await query.returning('challenge_hash').executeTakeFirst();
    return row?.challenge_hash ?? null;
  }
}
