import type { Tx } from '../bus/outbox.js';
import type { Db } from '../db/connect.js';
import type { Logger } from '../log/logger.js';
import { type SignedCheckpoint, type SigningKeys, signCheckpoint } from './checkpoint.js';
import type { CheckpointStore } from './checkpoints.js';
import { AuditStore, type ListFilters, type StoredRow } from './store.js';
import { type VerifyReport, verifyChain } from './verify.js';
import './tables.js';

export interface AuditPage {
  events: StoredRow[];
  /** Pass back as `cursor` for the next (older) page; null on the last page. */
  nextCursor: string | null;
}

export interface AuditServiceDeps {
  db: Db;
  checkpoints: CheckpointStore;
  keys: () => Promise<SigningKeys>;
  logger: Logger;
}

/** Reading, verifying and checkpointing audit chains. Appending is appendAudit, inside each change. */
export class AuditService {
  constructor(private readonly deps: AuditServiceDeps) {}

  /** Newest first, keyset-paginated by seq (the cursor is the last seq of the previous page). */
  async list(
    chain: string,
    filters: Omit<ListFilters, 'beforeSeq'> & { cursor?: number },
  ): Promise<AuditPage> {
    const { cursor, ...rest } = filters;
    const rows = await new AuditStore(this.deps.db).list(chain, {
      ...rest,
      ...(cursor !== undefined ? { beforeSeq: cursor } : {}),
      limit: filters.limit + 1,
    });
    const events = rows.slice(0, filters.limit);
    const more = rows.length > filters.limit;
    return { events, nextCursor: more ? String(events[events.length - 1]!.seq) : null };
  }

  /** Streams the chain (keyset pages) and checks it against its head and latest signed checkpoint. */
  async verify(chain: string, pageSize = 5000): Promise<VerifyReport> {
    const store = new AuditStore(this.deps.db);
    const checkpoint = await this.deps.checkpoints.latest(chain);
    // The head first: rows appended after it are not part of what is being verified.
    const head = await store.head(chain);
    const throughSeq = head ? head.seq : await store.lastSeq(chain);
    return verifyChain({ pages: store.pages(chain, 0, throughSeq, pageSize), head, checkpoint });
  }

  /**
   * Signs {chain, seq, hash, time} for every chain whose head moved since its last checkpoint.
   * Only the new rows are re-verified first: a chain that does not verify is not vouched for.
   */
  async checkpointMovedChains(tx: Tx, now: Date): Promise<SignedCheckpoint[]> {
    const moved = await tx
      .selectFrom('audit_chain_heads as h')
      .leftJoin('audit_checkpoints as c', 'c.chain', 'h.chain')
      .select(['h.chain', 'h.seq', 'h.hash', 'c.seq as checkpointSeq', 'c.hash as checkpointHash'])
      .where((eb) => eb.or([eb('c.seq', 'is', null), eb('h.seq', '>', eb.ref('c.seq'))]))
      .orderBy('h.chain')
      .execute();
    const keys = await this.deps.keys();
    const signed: SignedCheckpoint[] = [];
    const store = new AuditStore(tx);
    for (const head of moved) {
      const from =
        head.checkpointSeq !== null && head.checkpointHash !== null
          ? { seq: Number(head.checkpointSeq), hash: head.checkpointHash }
          : undefined;
      const report = await verifyChain({
        pages: store.pages(head.chain, from?.seq ?? 0, Number(head.seq)),
        ...(from ? { from } : {}),
        head: { seq: Number(head.seq), hash: head.hash },
        checkpoint: null,
      });
      if (!report.valid) {
        this.deps.logger.error('audit chain does not verify; not signing a checkpoint', {
          alert: 'audit-chain-broken',
          chain: head.chain,
          brokenAtSeq: report.brokenAtSeq,
          reason: report.reason,
        });
        continue;
      }
      const checkpoint = signCheckpoint(
        { chain: head.chain, seq: Number(head.seq), hash: head.hash, time: now.toISOString() },
        keys,
      );
      await this.deps.checkpoints.write(checkpoint);
      await tx
        .insertInto('audit_checkpoints')
        .values({ chain: head.chain, seq: checkpoint.seq, hash: checkpoint.hash, signed_at: now })
        .onConflict((oc) =>
          oc.column('chain').doUpdateSet({ seq: checkpoint.seq, hash: checkpoint.hash, signed_at: now }),
        )
        .execute();
      signed.push(checkpoint);
    }
    return signed;
  }
}
