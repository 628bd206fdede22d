import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendAudit } from '../../shared/audit/append.js';
import { orgChain } from '../../shared/audit/chain.js';
import { DAY_MS, FakeClock } from '../../shared/time/clock.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { orgTestEnv, runScheduled } from '../helpers/orgs.js';

/**
 * Chains the database declines (not closed by the purge: a row after org.deleted, say) are kept
 * and logged, and must not stand in front of the ones that did expire: the sweep takes due orgs
 * oldest first, so a batch's worth of declined chains at the head of the queue would keep every
 * later purged org's audit trail for good.
 */
const clock = new FakeClock('2024-03-01T10:00:00Z');
let app: TestApp;

beforeAll(async () => {
  app = await startTestApp({ clock, env: orgTestEnv });
}, 180_000);
afterAll(() => app?.stop());

const purgedAt = new Date('2020-01-01T00:00:00Z');

/** A purged org whose chain ends with the purge's org.deleted row, or with a row after it. */
async function purgedOrg(expiresAt: Date, closed: boolean): Promise<string> {
  const db = app.runtime.platform.db;
  const id = randomUUID();
  await db
    .insertInto('orgs')
    .values({
      id,
      name: '',
      slug: `deleted-${id}`,
      enterprise: false,
      max_concurrent_sessions: null,
      idle_timeout_minutes: null,
      absolute_timeout_hours: null,
      require_mfa: false,
      on_session_limit: 'revoke_oldest',
      created_at: purgedAt,
      deleted_at: purgedAt,
      purge_after: purgedAt,
      purged_at: purgedAt,
      audit_expires_at: expiresAt,
    })
    .execute();
  await db.transaction().execute(async (tx) => {
    await appendAudit(tx, {
      orgId: id,
      action: 'org.deleted',
      actor: { type: 'system', id: null },
      target: { type: 'org', id },
      metadata: { deletedAt: purgedAt.toISOString(), purged: {} },
      now: purgedAt,
    });
    if (!closed) {
      await appendAudit(tx, {
        orgId: id,
        action: 'machine.added',
        actor: { type: 'system', id: null },
        target: { type: 'machine', id: 'm-1' },
        metadata: {},
        now: purgedAt,
      });
    }
  });
  return id;
}

describe('expiring audit chains behind declined ones', () => {
  it('a full batch of declined chains does not keep a later expired chain for good', async () => {
    for (let i = 0; i < 25; i++) await purgedOrg(new Date(Date.UTC(2021, 0, 1) + i * DAY_MS), false);
    const due = await purgedOrg(new Date('2021-06-01T00:00:00Z'), true);
    await runScheduled(app, clock, 'maintenance-sweep');
    clock.advance(60 * 60_000);
    await runScheduled(app, clock, 'maintenance-sweep');
    const left = await app.runtime.platform.db
      .selectFrom('audit_logs')
      .select('seq')
      .where('chain', '=', orgChain(due))
      .execute();
    expect(left).toEqual([]);
  });
});
