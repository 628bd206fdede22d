import type { ActorType } from '../audit/actions.js';
import { appendAudit } from '../audit/append.js';
import { enqueue } from '../bus/outbox.js';
import type { Db } from '../db/connect.js';
import { type Failure, fail } from '../errors/codes.js';
import { parseAddress } from './address.js';
import type { AllowlistCache } from './cache.js';
import { type AllowlistEntry, checkEntries, type Normalization } from './entries.js';
import { compileAllowlist } from './matcher.js';
import type { AllowlistStore, AllowlistView } from './store.js';

export interface AllowlistChange {
  enabled: boolean;
  entries: AllowlistEntry[];
}

export interface ChangeActor {
  type: ActorType;
  id: string | null;
  /** The caller's client address: an enabled list must contain it. */
  ip: string;
  now: Date;
}

export type Decision = { allowed: boolean; matched: string | null };

/** Reading, changing and querying org allowlists. */
export class AllowlistService {
  constructor(
    private readonly db: Db,
    private readonly store: AllowlistStore,
    private readonly cache: AllowlistCache,
  ) {}

  /** The stored list, read fresh (the admin view never shows a cached copy). */
  view(orgId: string): Promise<AllowlistView> {
    return this.store.view(orgId);
  }

  /**
   * Validates and saves a list. Refuses to enable a list that would shut out the caller's own
   * address. The change, its audit row and its `allowlist-changed` event commit together; this
   * instance's cache drops the org at once, other instances within their cache TTL.
   */
  async update(
    orgId: string,
    change: AllowlistChange,
    actor: ChangeActor,
  ): Promise<{ ok: true; list: AllowlistView; normalized: Normalization[] } | Failure> {
    const checked = checkEntries(change.entries);
    if (!checked.ok) {
      return fail('VALIDATION_FAILED', 'Some allowlist entries are not valid.', { issues: checked.issues });
    }
    if (change.enabled) {
      const caller = parseAddress(actor.ip);
      if (!caller || compileAllowlist(checked.networks).match(caller) === null) {
        return fail(
          'CONFLICT',
          `The list does not contain your own address (${actor.ip}); enabling it would lock you out.`,
        );
      }
    }
    const list: AllowlistView = { enabled: change.enabled, entries: checked.entries };
    await this.db.transaction().execute(async (tx) => {
      const before = await this.store.lockForUpdate(tx, orgId, actor.now);
      await this.store.replace(
        tx,
        orgId,
        { ...list, networks: checked.networks },
        {
          userId: actor.type === 'user' ? actor.id : null,
          now: actor.now,
        },
      );
      await appendAudit(tx, {
        orgId,
        action: 'ip_allowlist.updated',
        actor: { type: actor.type, id: actor.id },
        target: { type: 'ip_allowlist', id: orgId },
        metadata: {
          before: before.entries,
          after: list.entries,
          enabledBefore: before.enabled,
          enabledAfter: list.enabled,
        },
        ip: actor.ip,
        now: actor.now,
      });
      await enqueue(tx, 'allowlist-changed', { orgId }, { now: actor.now, orgId });
    });
    this.cache.invalidate(orgId);
    return { ok: true, list, normalized: checked.normalized };
  }

  /** Whether the enforced list (through the cache, as requests see it) admits an address. */
  async decide(orgId: string, ip: string): Promise<Decision> {
    const list = await this.cache.get(orgId);
    if (!list.enabled) return { allowed: true, matched: null };
    const matched = list.matcher.matchText(ip);
    return { allowed: matched !== null, matched };
  }

  /** Drops this instance's cached copy of the org's list. */
  invalidate(orgId: string): void {
    this.cache.invalidate(orgId);
  }
}
