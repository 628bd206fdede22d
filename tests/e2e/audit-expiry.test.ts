import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orgChain } from '../../shared/audit/chain.js';
import { makeEnvelope } from '../../shared/bus/envelope.js';
import type { Tx } from '../../shared/bus/outbox.js';
import { DAY_MS, FakeClock } from '../../shared/time/clock.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import {
  createOrg,
  expectError,
  newUser,
  orgAudit,
  orgTestEnv,
  runScheduled,
  signInAgain,
  sudoToken,
  type TestUser,
} from '../helpers/orgs.js';

/**
 * A purged org's closed audit chain is deleted AUDIT_RETENTION_DAYS after its purge, and that is
 * the only way an audit row ever leaves: a live chain refuses deletes and updates whatever the
 * caller sets. The database weighs the retention with its own clock too (the caller's may only run
 * behind it), so this file's fake clock starts well in the past.
 */
const clock = new FakeClock('2024-03-01T10:00:00Z');
let app: TestApp;
let owner: TestUser;

beforeAll(async () => {
  app = await startTestApp({ clock, env: orgTestEnv });
  owner = await newUser(app, 'owner');
}, 180_000);
afterAll(() => app?.stop());

const db = () => app.runtime.platform.db;

async function chainRows(orgId: string) {
  return db()
    .selectFrom('audit_logs')
    .select(['seq', 'action'])
    .where('chain', '=', orgChain(orgId))
    .execute();
}

async function currentSchema(tx: Tx): Promise<string | undefined> {
  return (await sql<{ schema: string }>`select current_schema() as schema`.execute(tx)).rows[0]?.schema;
}

/**
 * Runs `statement` in its own transaction, marked as the purge function marks its own for `chain`,
 * and returns the database's refusal, if any.
 */
async function refusal(statement: ReturnType<typeof sql>, chain: string): Promise<string | null> {
  try {
    await db()
      .transaction()
      .execute(async (tx) => {
        await sql`select set_config('sessionforge.audit_chain_expiring', ${chain}, true)`.execute(tx);
        await statement.execute(tx);
      });
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

describe('audit chains of purged orgs', () => {
  let live: { id: string; slug: string };
  let closed: { id: string; slug: string };

  beforeAll(async () => {
    live = await createOrg(app, owner);
    closed = await createOrg(app, owner);
    const deleted = await app.request('DELETE', `/api/orgs/${closed.id}`, {
      token: await sudoToken(app, owner),
      body: { confirmSlug: closed.slug },
    });
    expect(deleted.status, deleted.text).toBe(202);
    clock.advance(7 * DAY_MS);
    await runScheduled(app, clock, 'maintenance-sweep');
    await runScheduled(app, clock, 'audit-checkpoint');
    expect((await orgAudit(app, closed.id)).at(-1)?.action).toBe('org.deleted');
  }, 120_000);

  it('a live chain refuses deletes, updates and truncation, even with the purge mark set', async () => {
    const chain = orgChain(live.id);
    for (const statement of [
      sql`delete from audit_logs where chain = ${chain}`,
      sql`update audit_logs set metadata = '{}'::jsonb where chain = ${chain}`,
      sql`truncate audit_logs`,
    ]) {
      expect(await refusal(statement, chain)).toContain('append-only');
    }
    // A closed chain's rows are no easier to edit or delete before the purge function has judged them.
    const closedChain = orgChain(closed.id);
    expect(
      await refusal(
        sql`update audit_logs set action = 'org.restored' where chain = ${closedChain}`,
        closedChain,
      ),
    ).toContain('append-only');
    expect(await refusal(sql`delete from audit_logs where chain = ${closedChain}`, closedChain)).toContain(
      'append-only',
    );
    expect((await chainRows(live.id)).length).toBeGreaterThan(0);
  });

  it('as the application role: no DELETE on audit rows, no writing the purge log, only the purge function', async () => {
    const chain = orgChain(live.id);
    const asApp = async (statement: ReturnType<typeof sql>) => {
      try {
        return await db()
          .transaction()
          .execute(async (tx) => {
            await sql`select set_config('sessionforge.audit_chain_expiring', ${chain}, true)`.execute(tx);
            await sql
              .raw(`grant usage on schema "${await currentSchema(tx)}" to sessionforge_app`)
              .execute(tx);
            await sql`set local role sessionforge_app`.execute(tx);
            return (await statement.execute(tx)).rows;
          });
      } catch (error) {
        return (error as Error).message;
      }
    };
    expect(await asApp(sql`delete from audit_logs where chain = ${chain}`)).toMatch(/permission denied/);
    expect(
      await asApp(
        sql`insert into audit_chain_purges values (${chain}, ${live.id}::uuid, 1, 'x', now(), 0, now())`,
      ),
    ).toMatch(/permission denied/);
    expect(
      await asApp(
        sql`select purge_expired_audit_chain(${live.id}::uuid, 30, ${new Date('2099-01-01T00:00:00Z')}::timestamptz) as rows`,
      ),
    ).toEqual([{ rows: null }]);
    expect((await chainRows(live.id)).length).toBeGreaterThan(0);
  });

  it('the purge function declines a live chain, a closed chain inside its retention, and a short retention', async () => {
    const purge = (orgId: string, days: number, at: Date) =>
      sql<{
        rows: number | null;
      }>`select purge_expired_audit_chain(${orgId}::uuid, ${days}::int, ${at}::timestamptz) as rows`.execute(
        db(),
      );
    const farFuture = new Date('2099-01-01T00:00:00Z');
    // The caller's clock cannot run ahead of the database's: "2099" is read as the database's now.
    expect((await purge(live.id, 30, farFuture)).rows[0]?.rows).toBeNull();
    expect((await purge(closed.id, 400, clock.now())).rows[0]?.rows).toBeNull();
    await expect(purge(closed.id, 1, farFuture)).rejects.toThrow(/at least 30 days/);
    expect((await chainRows(closed.id)).length).toBeGreaterThan(0);
    expect(await db().selectFrom('audit_chain_purges').selectAll().execute()).toEqual([]);
  });

  it('another service cannot reopen a closed chain: its events for a purged org are dropped', async () => {
    const before = await chainRows(closed.id);
    const p = app.runtime.platform;
    for (const orgId of [closed.id, live.id]) {
      const envelope = makeEnvelope(
        'audit-events',
        { action: 'machine.added', actorType: 'system', actorId: null, metadata: {} },
        clock.now(),
        orgId,
      );
      await p.publisher.publish('audit-events', envelope);
    }
    await p.localBus?.idle();
    await app.settle();
    expect(await chainRows(closed.id)).toEqual(before);
    expect((await chainRows(live.id)).at(-1)?.action).toBe('machine.added');
    await runScheduled(app, clock, 'audit-checkpoint');
  });

  it('keeps a closed chain until AUDIT_RETENTION_DAYS after the purge, then deletes it with its head and checkpoint, and logs the purge', async () => {
    const chain = orgChain(closed.id);
    const before = await chainRows(closed.id);
    const head = await db()
      .selectFrom('audit_chain_heads')
      .selectAll()
      .where('chain', '=', chain)
      .executeTakeFirstOrThrow();
    expect(
      await db().selectFrom('audit_checkpoints').select('seq').where('chain', '=', chain).execute(),
    ).toEqual([{ seq: head.seq }]);
    const liveRows = (await chainRows(live.id)).length;

    clock.advance(400 * DAY_MS - 60_000);
    await runScheduled(app, clock, 'maintenance-sweep');
    expect(await chainRows(closed.id)).toEqual(before);

    clock.advance(60_000);
    await runScheduled(app, clock, 'maintenance-sweep');
    expect(await chainRows(closed.id)).toEqual([]);
    expect(
      await db().selectFrom('audit_chain_heads').select('chain').where('chain', '=', chain).execute(),
    ).toEqual([]);
    expect(
      await db().selectFrom('audit_checkpoints').select('chain').where('chain', '=', chain).execute(),
    ).toEqual([]);
    const logged = await db()
      .selectFrom('audit_chain_purges')
      .selectAll()
      .where('chain', '=', chain)
      .executeTakeFirstOrThrow();
    expect(logged).toMatchObject({
      org_id: closed.id,
      last_seq: head.seq,
      last_hash: head.hash,
      rows_deleted: before.length,
      purged_at: clock.now(),
    });
    // The live org, as old and as quiet, keeps every row; the tombstone stays, id only.
    expect((await chainRows(live.id)).length).toBe(liveRows);
    expect(
      await db().selectFrom('orgs').select(['name', 'slug']).where('id', '=', closed.id).executeTakeFirst(),
    ).toEqual({ name: '', slug: `deleted-${closed.id}` });
    // Nothing left to say about it over HTTP, and the next sweep finds nothing to do.
    owner = await signInAgain(app, owner);
    expectError(
      await app.request('GET', `/api/orgs/${closed.id}/audit`, { token: owner.token }),
      404,
      'NOT_FOUND',
    );
    await runScheduled(app, clock, 'maintenance-sweep');
    expect(await db().selectFrom('audit_chain_purges').select('chain').execute()).toEqual([{ chain }]);
  });
});
