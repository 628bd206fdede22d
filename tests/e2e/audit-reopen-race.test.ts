import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendAudit } from '../../shared/audit/append.js';
import { orgChain } from '../../shared/audit/chain.js';
import { makeEnvelope } from '../../shared/bus/envelope.js';
import { DAY_MS, FakeClock } from '../../shared/time/clock.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createOrg, newUser, orgTestEnv, sudoToken } from '../helpers/orgs.js';

/**
 * Another service's audit event that arrives while the org's purge is committing must not land
 * after the purge's closing `org.deleted` row: a chain whose last row is not that row is never
 * expired (migration 0055 declines it), so a well-timed event would keep a purged org's audit
 * trail past AUDIT_RETENTION_DAYS for good. The purge below is the maintenance sweep's own steps
 * (shared/orgs/deletion.ts), held open while the event is delivered.
 */
const clock = new FakeClock('2024-06-01T10:00:00Z');
let app: TestApp;

beforeAll(async () => {
  app = await startTestApp({ clock, env: orgTestEnv });
}, 180_000);
afterAll(() => app?.stop());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('an audit event racing the purge of its org', () => {
  it('is dropped, not chained after the closing org.deleted row', async () => {
    const owner = await newUser(app, 'owner');
    const org = await createOrg(app, owner);
    const deleted = await app.request('DELETE', `/api/orgs/${org.id}`, {
      token: await sudoToken(app, owner),
      body: { confirmSlug: org.slug },
    });
    expect(deleted.status, deleted.text).toBe(202);
    clock.advance(8 * DAY_MS);
    const p = app.runtime.platform;
    const db = p.db;

    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const locked = new Promise<void>((resolve) => {
      void db
        .transaction()
        .execute(async (tx) => {
          await tx.selectFrom('orgs').select('id').where('id', '=', org.id).forUpdate().execute();
          await tx.updateTable('orgs').set({ purged_at: clock.now() }).where('id', '=', org.id).execute();
          await appendAudit(tx, {
            orgId: org.id,
            action: 'org.deleted',
            actor: { type: 'system', id: null },
            target: { type: 'org', id: org.id },
            metadata: { deletedAt: clock.now().toISOString(), purged: {} },
            now: clock.now(),
          });
          resolve();
          await gate;
        })
        .then(() => undefined);
    });
    // PGlite has one connection: the event then waits for the commit whatever the code does.
    await Promise.race([locked, sleep(2_000)]);
    const published = p.publisher.publish(
      'audit-events',
      makeEnvelope(
        'audit-events',
        { action: 'machine.added', actorType: 'system', actorId: null, metadata: {} },
        clock.now(),
        org.id,
      ),
    );
    await sleep(500);
    release();
    await published;
    await p.localBus?.idle();
    await app.settle();
    const rows = await db
      .selectFrom('audit_logs')
      .select(['seq', 'action'])
      .where('chain', '=', orgChain(org.id))
      .orderBy('seq')
      .execute();
    expect(rows.at(-1)?.action).toBe('org.deleted');
    expect(rows.map((r) => r.action)).not.toContain('machine.added');
  });
});
