import { randomUUID } from 'node:crypto';
import { appendAudit } from '../audit/append.js';
import { constantTimeEqual, sha256 } from '../crypto/tokens.js';
import { fail, type Result } from '../errors/codes.js';
import { creatorRoleAt, isId, keySurvives, type OrgRole } from '../orgs/model.js';
import { displayPrefixOf, generateApiKey, parseApiKey } from './format.js';
import { issueVerdict, keyUsable, lastUsedDue } from './model.js';
import type { ApiKeyRow, ApiKeyStore } from './store.js';

/** What a verified key may act as: its org and role (the edge's ApiKeyIdentity). */
export interface VerifiedKey {
  id: string;
  orgId: string;
  role: OrgRole;
  name: string;
}

export interface IssuedKey {
  id: string;
  name: string;
  role: OrgRole;
  prefix: string;
  /** The only time the key exists outside the caller's hands. */
  key: string;
  createdAt: Date;
  expiresAt: Date | null;
}

/** The signed-in member acting on keys, as the route knows them. */
export interface KeyActor {
  userId: string;
  role: OrgRole;
  inStepUp: boolean;
  ip: string | null;
}

/** Issuing, listing, revoking and verifying org API keys. */
export class ApiKeyService {
  constructor(
    private readonly store: ApiKeyStore,
    private readonly newKey: () => string = generateApiKey,
  ) {}

  /** The key row and its `api_key.created` audit row commit together; the audit holds the prefix only. */
  async issue(
    orgId: string,
    input: { name: string; role: OrgRole; expiresAt: Date | null },
    actor: KeyActor,
    now: Date,
  ): Promise<Result<{ issued: IssuedKey }>> {
    const verdict = issueVerdict(actor, input, now);
    if (verdict === 'role_too_high') {
      return fail('INSUFFICIENT_ROLE', 'A key cannot have a role above your own; owner keys need an owner.');
    }
    if (verdict === 'step_up_required') {
      return fail('STEP_UP_REQUIRED', 'Confirm your identity again (step-up) to create an owner key.');
    }
    if (verdict === 'expiry_in_past') {
      return fail('VALIDATION_FAILED', 'The request is not valid.', {
        issues: [{ path: 'expiresAt', message: 'must be in the future' }],
      });
    }
    const key = this.newKey();
    const row: ApiKeyRow = {
      id: randomUUID(),
      org_id: orgId,
      name: input.name,
      role: input.role,
      key_hash: sha256(key),
      display_prefix: displayPrefixOf(key),
      created_by: actor.userId,
      created_at: now,
      expires_at: input.expiresAt,
      last_used_at: null,
      revoked_at: null,
      revoked_by: null,
    };
    await this.store.db.transaction().execute(async (tx) => {
      await this.store.insert(tx, row);
      await appendAudit(tx, {
        orgId,
        action: 'api_key.created',
        actor: { type: 'user', id: actor.userId },
        target: { type: 'api_key', id: row.id },
        metadata: {
          name: row.name,
          role: row.role,
          prefix: row.display_prefix,
          expiresAt: row.expires_at?.toISOString() ?? null,
        },
        ip: actor.ip,
        now,
      });
    });
    return {
      ok: true,
      issued: {
        id: row.id,
        name: row.name,
        role: row.role,
        prefix: row.display_prefix,
        key,
        createdAt: now,
        expiresAt: row.expires_at,
      },
    };
  }

  list(orgId: string): Promise<ApiKeyRow[]> {
    return this.store.listLive(orgId);
  }

  /** Another org's key, an unknown id and an already revoked key all answer NOT_FOUND. */
  async revoke(
    orgId: string,
    id: string,
    actor: { userId: string; ip: string | null },
    now: Date,
  ): Promise<Result<{ revoked: ApiKeyRow }>> {
    if (!isId(id)) return fail('NOT_FOUND', 'No such API key.');
    return this.store.db.transaction().execute(async (tx) => {
      const revoked = await this.store.revoke(tx, orgId, id, actor.userId, now);
      if (!revoked) return fail('NOT_FOUND', 'No such API key.');
      await appendAudit(tx, {
        orgId,
        action: 'api_key.deleted',
        actor: { type: 'user', id: actor.userId },
        target: { type: 'api_key', id },
        metadata: { name: revoked.name, role: revoked.role, prefix: revoked.display_prefix },
        ip: actor.ip,
        now,
      });
      return { ok: true as const, revoked };
    });
  }

  /**
   * The key's org and role, or null. Malformed text is refused by the pure parser before any
   * database call; revocation and expiry are read from the database on every use (no cache).
   */
  async verify(key: string, now: Date): Promise<VerifiedKey | null> {
    const parsed = parseApiKey(key);
    if (!parsed.ok) return null;
    const hash = sha256(parsed.key);
    const row = await this.store.findByHash(hash);
    // The index matched on the hash already; the constant-time recheck keeps the rule uniform.
    if (!row || !constantTimeEqual(row.key_hash, hash)) return null;
    if (!keyUsable({ expiresAt: row.expires_at, revokedAt: row.revoked_at }, now)) return null;
    // Removal and demotion revoke at once; a membership that lapsed is caught here. A key with no
    // creator left (an erased account, whose keys were revoked first) is judged by the above alone.
    const creatorRole = creatorRoleAt({ role: row.creator_role, expiresAt: row.creator_expires_at }, now);
    if (row.created_by !== null && !keySurvives(creatorRole, row.role)) return null;
    if (lastUsedDue(row.last_used_at, now)) await this.store.touchLastUsed(row.id, now);
    return { id: row.id, orgId: row.org_id, role: row.role, name: row.name };
  }
}
