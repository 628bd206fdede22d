import { appendAudit } from '../audit/append.js';
import type { Tx } from '../bus/outbox.js';
import { randomToken } from '../crypto/tokens.js';
import { fail, type Result } from '../errors/codes.js';
import type { Logger } from '../log/logger.js';
import type { TxtLookup } from './dns-txt.js';
import type { DomainStore, OrgDomain } from './domain-store.js';
import { txtProves, txtRecordName, txtRecordValue } from './domains-model.js';

export interface DomainView {
  domain: string;
  /** Where the TXT record goes, and its exact value. */
  txtName: string;
  txtRecord: string;
  verified: boolean;
  verifiedAt: Date | null;
  createdAt: Date;
}

export function domainView(d: OrgDomain): DomainView {
  return {
    domain: d.domain,
    txtName: txtRecordName(d.domain),
    txtRecord: txtRecordValue(d.txtToken),
    verified: d.verifiedAt !== null,
    verifiedAt: d.verifiedAt,
    createdAt: d.createdAt,
  };
}

type Actor = { userId: string; ip: string | null };

const TAKEN = 'Another organization has verified this domain.';

/** Domain changes are policy changes of the org: `policy.updated` with `domain: {name, change}`. */
function auditDomain(
  tx: Tx,
  orgId: string,
  actor: Actor,
  domain: string,
  change: 'added' | 'verified' | 'removed',
  now: Date,
) {
  return appendAudit(tx, {
    orgId,
    action: 'policy.updated',
    actor: { type: 'user', id: actor.userId },
    metadata: { domain: { name: domain, change } },
    ip: actor.ip,
    now,
  });
}

/**
 * Verified domains. Any org may claim a domain and gets its own TXT value; the first org whose
 * record is seen holds the domain, and later claims answer 409 until it lets go (DELETE). A TXT
 * record proves control of the zone at that moment, which is all a later claimant could prove too,
 * so the holder is not displaced by a second proof: a domain changing hands is released by its
 * holder (or by support), never taken over by whoever publishes a record next.
 */
export class DomainService {
  constructor(private readonly deps: { store: DomainStore; dns: TxtLookup; logger: Logger }) {}

  list(orgId: string): Promise<OrgDomain[]> {
    return this.deps.store.list(orgId);
  }

  async claim(
    orgId: string,
    domain: string,
    actor: Actor,
    now: Date,
  ): Promise<Result<{ domain: OrgDomain }>> {
    const { store } = this.deps;
    const holder = await store.holder(domain);
    if (holder && holder.orgId !== orgId) return fail('CONFLICT', TAKEN);
    return store.db.transaction().execute(async (tx) => {
      const added = await store.claim(
        tx,
        { orgId, domain, txtToken: randomToken(), createdBy: actor.userId },
        now,
      );
      if (!added) return fail('CONFLICT', 'This organization has already added this domain.');
      await auditDomain(tx, orgId, actor, domain, 'added', now);
      const saved = await store.find(tx, orgId, domain);
      if (!saved) throw new Error('claimed domain vanished');
      return { ok: true as const, domain: saved };
    });
  }

  async verify(
    orgId: string,
    domain: string,
    actor: Actor,
    now: Date,
  ): Promise<Result<{ domain: OrgDomain }>> {
    const { store } = this.deps;
    const claimed = await store.find(store.db, orgId, domain);
    if (!claimed) return fail('NOT_FOUND', 'This organization has not added this domain.');
    if (claimed.verifiedAt) return { ok: true, domain: claimed };
    let records: string[][];
    try {
      records = await this.deps.dns.txt(txtRecordName(domain));
    } catch (error) {
      this.deps.logger.warn('domain TXT lookup failed', { orgId, domain, error: String(error) });
      return fail('INTERNAL', 'The DNS lookup failed; try again later.');
    }
    if (!txtProves(records, claimed.txtToken)) {
      return fail(
        'VALIDATION_FAILED',
        `No TXT record at ${txtRecordName(domain)} has the expected value yet.`,
        {
          issues: [{ path: 'domain', message: 'TXT record not found' }],
        },
      );
    }
    return store.db.transaction().execute(async (tx) => {
      if ((await store.markVerified(tx, orgId, domain, now)) === 'taken') return fail('CONFLICT', TAKEN);
      await auditDomain(tx, orgId, actor, domain, 'verified', now);
      return { ok: true as const, domain: { ...claimed, verifiedAt: now } };
    });
  }

  async remove(orgId: string, domain: string, actor: Actor, now: Date): Promise<boolean> {
    const { store } = this.deps;
    return store.db.transaction().execute(async (tx) => {
      const removed = await store.remove(tx, orgId, domain);
      if (removed) {
        await auditDomain(tx, orgId, actor, domain, 'removed', now);
      }
      return removed;
    });
  }
}
