import { type AuditEvent, appendAuditBatch } from '../../shared/audit/append.js';
import { externalOrgEvent } from '../../shared/audit/external.js';
import type { AuditService } from '../../shared/audit/service.js';
import type { BatchHandlers, TopicHandlers } from '../../shared/bus/consumer.js';
import type { TypedEnvelope } from '../../shared/bus/envelope.js';
import type { Tx } from '../../shared/bus/outbox.js';
import type { Logger } from '../../shared/log/logger.js';
import type { Metrics } from '../../shared/log/metrics.js';
import type { Clock } from '../../shared/time/clock.js';
import '../../shared/orgs/tables.js';

export interface AuditConsumerDeps {
  audit: AuditService;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
}

type ChainDeps = Pick<AuditConsumerDeps, 'clock' | 'logger' | 'metrics'>;

/**
 * Chains other services' org events and signs hourly checkpoints. Both run in the consumer's
 * transaction, so an event id is recorded exactly when its row (or checkpoint bookkeeping) commits.
 */
export function auditConsumerHandlers(deps: AuditConsumerDeps): TopicHandlers {
  return {
    'audit-events': async (envelope, tx) => {
      await chainExternalEvents([envelope], tx, deps);
    },
    'audit-checkpoint': async (_envelope, tx) => {
      const signed = await deps.audit.checkpointMovedChains(tx, deps.clock.now());
      deps.logger.info('audit checkpoints signed', { chains: signed.length });
    },
  };
}

/**
 * Events for one org append to one chain, which serializes on its head row until commit; the ones
 * this instance receives at the same time share a transaction and are chained in three statements
 * (appendAuditBatch), so the head is locked for one commit per batch rather than one per event
 * (bench/results/audit.md).
 */
export function auditConsumerBatches(deps: ChainDeps): BatchHandlers {
  return {
    'audit-events': {
      key: (envelope) => (envelope.orgId ? `org:${envelope.orgId}` : null),
      handle: (envelopes, tx) => chainExternalEvents(envelopes, tx, deps),
    },
  };
}

/**
 * Chains the valid ones of other services' org events (one org's, as batched or alone), stamped
 * with the time they reached the chain, and drops the rest with a reason, logged and counted:
 * redelivering them could never succeed, so they are acknowledged rather than retried.
 */
async function chainExternalEvents(
  envelopes: TypedEnvelope<'audit-events'>[],
  tx: Tx,
  deps: ChainDeps,
): Promise<void> {
  const now = deps.clock.now();
  const parsed = envelopes.map((envelope) => ({ envelope, result: externalOrgEvent(envelope, now) }));
  // A purged org's chain is closed by its `org.deleted` row and kept only to expire
  // (AUDIT_RETENTION_DAYS): nothing may reopen it.
  const orgIds = [
    ...new Set(
      parsed.flatMap(({ result }) => (result.ok && 'orgId' in result.event ? [result.event.orgId] : [])),
    ),
  ];
  // FOR SHARE waits for a purge that holds the org row (it closes the chain in that same
  // transaction) and then reads its outcome. The rows are locked, not filtered on purged_at in
  // SQL: a row a filter skips is never waited for. Id order, so two batches cannot deadlock.
  const purged = new Set(
    orgIds.length === 0
      ? []
      : (
          await tx
            .selectFrom('orgs')
            .select(['id', 'purged_at'])
            .where('id', 'in', orgIds)
            .orderBy('id')
            .forShare()
            .execute()
        )
          .filter((row) => row.purged_at !== null)
          .map((row) => row.id),
  );
  const events: AuditEvent[] = [];
  for (const { envelope, result } of parsed) {
    const reason = !result.ok
      ? result.reason
      : 'orgId' in result.event && purged.has(result.event.orgId)
        ? 'the org is purged; its audit chain is closed'
        : null;
    if (result.ok && reason === null) {
      events.push(result.event);
      continue;
    }
    deps.metrics.increment('audit_events_dropped', { action: envelope.data.action.slice(0, 64) });
    deps.logger.error('dropping refused audit event', {
      eventId: envelope.id,
      orgId: envelope.orgId,
      reason,
    });
  }
  await appendAuditBatch(tx, events);
}
