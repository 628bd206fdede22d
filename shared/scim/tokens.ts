import { randomUUID } from 'node:crypto';
import { appendAudit } from '../audit/append.js';
import { constantTimeEqual, randomToken, sha256 } from '../crypto/tokens.js';
import type { Db } from '../db/connect.js';
import { fail, type Result } from '../errors/codes.js';
import { creatorRoleAt, isId } from '../orgs/model.js';
import '../orgs/tables.js';
import type { ScimTokensTable } from './tables.js';
import './tables.js';

/** `sf_scim_` + 32 random bytes, base64url: a prefix secret scanners and our own edge can tell apart. */
export const SCIM_TOKEN_PREFIX = 'sf_scim_';
const SCIM_TOKEN_PATTERN = /^sf_scim_[A-Za-z0-9_-]{43}$/;
/** Characters shown in listings: enough to tell tokens apart, far too few to matter. */
const DISPLAY_CHARS = SCIM_TOKEN_PREFIX.length + 6;
const LAST_USED_RESOLUTION_MS = 60_000;

export type ScimTokenRow = ScimTokensTable;

/** What a verified SCIM token acts as: its own org, nothing else. */
export interface ScimTokenIdentity {
  id: string;
  orgId: string;
  name: string;
}

export interface IssuedScimToken {
  id: string;
  name: string;
  prefix: string;
  /** The only time the token exists outside the caller's hands. */
  token: string;
  createdAt: Date;
}

export function isScimTokenShaped(value: string): boolean {
  return SCIM_TOKEN_PATTERN.test(value);
}

/**
 * Per-org SCIM tokens: issued and revoked by an owner in step-up, each with its audit row in the
 * same transaction; verified on every SCIM request from the database (no cache), so a revoked
 * token, or one of a deleted org, fails on the very next request.
 */
export class ScimTokenService {
  constructor(
    readonly db: Db,
    private readonly newToken: () => string = () => SCIM_TOKEN_PREFIX + randomToken(),
  ) {}

  async issue(
    orgId: string,
    name: string,
    actor: { userId: string; ip: string | null },
    now: Date,
  ): Promise<IssuedScimToken> {
    const token = this.newToken();
    const row: ScimTokenRow = {
      id: randomUUID(),
      org_id: orgId,
      name,
      token_hash: sha256(token),
      display_prefix: token.slice(0, DISPLAY_CHARS),
      created_by: actor.userId,
      created_at: now,
      last_used_at: null,
      revoked_at: null,
      revoked_by: null,
    };
    await this.db.transaction().execute(async (tx) => {
      await tx.insertInto('scim_tokens').values(row).execute();
      await appendAudit(tx, {
        orgId,
        action: 'scim.token_created',
        actor: { type: 'user', id: actor.userId },
        target: { type: 'scim_token', id: row.id },
        metadata: { prefix: row.display_prefix },
        ip: actor.ip,
        now,
      });
    });
    return { id: row.id, name, prefix: row.display_prefix, token, createdAt: now };
  }

  /** The org's live tokens, oldest first; never their secrets. */
  list(
    orgId: string,
  ): Promise<Pick<ScimTokenRow, 'id' | 'name' | 'display_prefix' | 'created_at' | 'last_used_at'>[]> {
    return this.db
      .selectFrom('scim_tokens')
      .select(['id', 'name', 'display_prefix', 'created_at', 'last_used_at'])
      .where('org_id', '=', orgId)
      .where('revoked_at', 'is', null)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
  }

  /** Another org's token, an unknown id and an already revoked token all answer NOT_FOUND. */
  async revoke(
    orgId: string,
    id: string,
    actor: { userId: string; ip: string | null },
    now: Date,
  ): Promise<Result<{ id: string }>> {
    if (!isId(id)) return fail('NOT_FOUND', 'No such SCIM token.');
    return this.db.transaction().execute(async (tx) => {
      const revoked = await tx
        .updateTable('scim_tokens')
        .set({ revoked_at: now, revoked_by: actor.userId })
        .where('id', '=', id)
        .where('org_id', '=', orgId)
        .where('revoked_at', 'is', null)
        .returning(['id', 'display_prefix'])
        .executeTakeFirst();
      if (!revoked) return fail('NOT_FOUND', 'No such SCIM token.');
      await appendAudit(tx, {
        orgId,
        action: 'scim.token_revoked',
        actor: { type: 'user', id: actor.userId },
        target: { type: 'scim_token', id },
        metadata: { prefix: revoked.display_prefix },
        ip: actor.ip,
        now,
      });
      return { ok: true as const, id };
    });
  }

  /**
   * The token's org, or null. Text of the wrong shape is refused before any database call; a
   * revoked token, one of an org being deleted, or one whose owner is no longer one, is null.
   */
  async verify(token: string, now: Date): Promise<ScimTokenIdentity | null> {
    if (!isScimTokenShaped(token)) return null;
    const hash = sha256(token);
    const row = await this.db
      .selectFrom('scim_tokens')
      .innerJoin('orgs', 'orgs.id', 'scim_tokens.org_id')
      .leftJoin('memberships as creator', (join) =>
        join
          .onRef('creator.org_id', '=', 'scim_tokens.org_id')
          .onRef('creator.user_id', '=', 'scim_tokens.created_by'),
      )
      .select([
        'scim_tokens.created_by',
        'creator.role as creator_role',
        'creator.expires_at as creator_expires_at',
        'scim_tokens.id',
        'scim_tokens.org_id',
        'scim_tokens.name',
        'scim_tokens.token_hash',
        'scim_tokens.revoked_at',
        'scim_tokens.last_used_at',
        'orgs.deleted_at',
      ])
      .where('scim_tokens.token_hash', '=', hash)
      .executeTakeFirst();
    // The index matched on the hash already; the constant-time recheck keeps the rule uniform.
    if (!row || !constantTimeEqual(row.token_hash, hash)) return null;
    if (row.revoked_at || row.deleted_at) return null;
    // An owner's credential: removal and demotion revoke it at once, an owner membership that
    // lapsed by its expires_at stops it here. No creator left (an erased account) was revoked first.
    const creatorRole = creatorRoleAt({ role: row.creator_role, expiresAt: row.creator_expires_at }, now);
    if (row.created_by !== null && creatorRole !== 'owner') return null;
    if (!row.last_used_at || now.getTime() - row.last_used_at.getTime() >= LAST_USED_RESOLUTION_MS) {
      const cutoff = new Date(now.getTime() - LAST_USED_RESOLUTION_MS);
      await this.db
        .updateTable('scim_tokens')
        .set({ last_used_at: now })
        .where('id', '=', row.id)
        .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<=', cutoff)]))
        .execute();
    }
    return { id: row.id, orgId: row.org_id, name: row.name };
  }
}
