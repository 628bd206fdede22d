import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertOrg, openTestDatabase } from '../../tests/helpers/db.js';
import type { DbHandle } from '../db/connect.js';
import { appUserGrants } from '../db/grants.js';
import { appendAudit } from './append.js';
import { orgChain } from './chain.js';

/**
 * Attacks on the one way audit rows leave (migration 0055) by a function's own database user,
 * granted exactly what `npm run db:grant` grants (shared/db/grants.ts): the purge mark is open to
 * every role (set_config), so the trigger must not take a mark plus a purge log row from anyone
 * but the purge function, and that user must be able to call the function for a chain that did
 * expire.
 */
let handle: DbHandle;
let schema: string;
const unit = `sf_unit_${randomBytes(5).toString('hex')}`;
const longAgo = new Date('2020-01-01T00:00:00Z');

beforeAll(async () => {
  handle = await openTestDatabase();
  schema = (await sql<{ s: string }>`select current_schema() as s`.execute(handle.db)).rows[0]?.s ?? '';
  await sql.raw(`create role ${unit} nologin`).execute(handle.db);
  for (const statement of appUserGrants(`"${unit}"`, `"${schema}"`))
    await sql.raw(statement).execute(handle.db);
});
afterAll(async () => {
  if (handle) {
    await sql.raw(`drop owned by ${unit}`).execute(handle.db);
    await sql.raw(`drop role ${unit}`).execute(handle.db);
    await handle.close();
  }
});

async function orgWithChain(at: Date, close: boolean): Promise<string> {
  const orgId = await insertOrg(handle.db, { slug: `o-${randomBytes(4).toString('hex')}`, now: at });
  await handle.db.transaction().execute(async (tx) => {
    await appendAudit(tx, {
      orgId,
      action: 'member.invited',
      actor: { type: 'user', id: orgId },
      target: { type: 'invitation', id: orgId },
      metadata: { role: 'member' },
      ip: null,
      now: at,
    });
    if (close) {
      await appendAudit(tx, {
        orgId,
        action: 'org.deleted',
        actor: { type: 'system', id: null },
        target: { type: 'org', id: orgId },
        metadata: { deletedAt: at.toISOString(), purged: {} },
        ip: null,
        now: at,
      });
    }
  });
  if (close) {
    await handle.db
      .updateTable('orgs')
      .set({ deleted_at: at, purge_after: at, purged_at: at, audit_expires_at: at })
      .where('id', '=', orgId)
      .execute();
  }
  return orgId;
}

const rowsOf = async (orgId: string) =>
  Number(
    (
      await handle.db
        .selectFrom('audit_logs')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('chain', '=', orgChain(orgId))
        .executeTakeFirstOrThrow()
    ).n,
  );

/** Runs `steps` in one transaction as the function's database user; the refusal's words, or null. */
async function asUnit(steps: Array<ReturnType<typeof sql>>): Promise<string | null> {
  try {
    await handle.db.transaction().execute(async (tx) => {
      await sql.raw(`set local role ${unit}`).execute(tx);
      for (const step of steps) await step.execute(tx);
    });
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

describe('the audit purge gate against a function’s database user', () => {
  it('cannot delete a live chain by marking its transaction and writing the purge log itself', async () => {
    const orgId = await orgWithChain(new Date(), false);
    const chain = orgChain(orgId);
    const refused = await asUnit([
      sql`select set_config('sessionforge.audit_chain_expiring', ${chain}, true)`,
      sql`insert into audit_chain_purges values (${chain}, ${orgId}::uuid, 1, 'x', now(), 0, now())`,
      sql`delete from audit_logs where chain = ${chain}`,
    ]);
    expect(refused).toMatch(/permission denied|append-only/);
    expect(await rowsOf(orgId)).toBe(1);
    expect(
      await handle.db.selectFrom('audit_chain_purges').select('chain').where('chain', '=', chain).execute(),
    ).toEqual([]);
  });

  it('cannot edit or erase the purge log', async () => {
    const orgId = await orgWithChain(longAgo, true);
    expect(
      (
        await sql<{
          n: string | null;
        }>`select purge_expired_audit_chain(${orgId}::uuid, 400, now()) as n`.execute(handle.db)
      ).rows[0]?.n,
    ).not.toBeNull();
    const chain = orgChain(orgId);
    expect(
      await asUnit([sql`update audit_chain_purges set last_hash = 'forged' where chain = ${chain}`]),
    ).toMatch(/permission denied/);
    expect(await asUnit([sql`delete from audit_chain_purges where chain = ${chain}`])).toMatch(
      /permission denied/,
    );
    expect(
      await handle.db.selectFrom('audit_chain_purges').select('chain').where('chain', '=', chain).execute(),
    ).toEqual([{ chain }]);
  });

  it('cannot delete a chain head or its checkpoint row either (only the purge function does)', async () => {
    const orgId = await orgWithChain(new Date(), false);
    const chain = orgChain(orgId);
    await sql`insert into audit_checkpoints values (${chain}, 1, 'x', now())`.execute(handle.db);
    expect(await asUnit([sql`delete from audit_chain_heads where chain = ${chain}`])).toMatch(
      /permission denied/,
    );
    expect(await asUnit([sql`delete from audit_checkpoints where chain = ${chain}`])).toMatch(
      /permission denied/,
    );
    expect(await asUnit([sql`truncate audit_chain_heads`])).toMatch(/permission denied/);
    expect(
      await handle.db.selectFrom('audit_chain_heads').select('seq').where('chain', '=', chain).execute(),
    ).toHaveLength(1);
  });

  it('even given DELETE on audit rows and a purge log row for the chain, deletes only inside the purge function', async () => {
    const orgId = await orgWithChain(new Date(), false);
    const chain = orgChain(orgId);
    // Whatever grants an operator adds by hand, and a log row the owner wrote (a reused chain name).
    await sql.raw(`grant delete on "${schema}".audit_logs to ${unit}`).execute(handle.db);
    await sql`insert into audit_chain_purges values (${chain}, ${orgId}::uuid, 1, 'x', now(), 0, now())`.execute(
      handle.db,
    );
    try {
      const refused = await asUnit([
        sql`select set_config('sessionforge.audit_chain_expiring', ${chain}, true)`,
        sql`delete from audit_logs where chain = ${chain}`,
      ]);
      expect(refused).toMatch(/append-only: DELETE refused/);
      expect(await rowsOf(orgId)).toBe(1);
    } finally {
      await sql.raw(`revoke delete on "${schema}".audit_logs from ${unit}`).execute(handle.db);
    }
  });

  it('can call the purge function, which deletes a chain that did expire and still declines a live one', async () => {
    const expired = await orgWithChain(longAgo, true);
    const live = await orgWithChain(new Date(), false);
    const called: Array<string | number | null> = [];
    const refused = await asUnit([sql`select 1`]);
    expect(refused).toBeNull();
    await handle.db.transaction().execute(async (tx) => {
      await sql.raw(`set local role ${unit}`).execute(tx);
      for (const orgId of [expired, live]) {
        const r = await sql<{
          n: string | number | null;
        }>`select purge_expired_audit_chain(${orgId}::uuid, 400, now()) as n`.execute(tx);
        called.push(r.rows[0]?.n ?? null);
      }
    });
    expect(called.map((n) => (n === null ? null : Number(n)))).toEqual([2, null]);
    expect(await rowsOf(expired)).toBe(0);
    expect(await rowsOf(live)).toBe(1);
  });
});
