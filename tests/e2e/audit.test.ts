import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { getFunction } from '@google-cloud/functions-framework/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditDeps } from '../../functions/audit/deps.js';
import { orgChain } from '../../shared/audit/chain.js';
import { pubsubCloudEvent } from '../../shared/bus/consumer.js';
import { makeEnvelope } from '../../shared/bus/envelope.js';
import type { CloudEventHandler } from '../../shared/bus/local-bus.js';
import { enqueue } from '../../shared/bus/outbox.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { chainRows } from '../helpers/audit.js';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app?.stop();
});

describe('GET /api/accounts/activity', () => {
  it('shows the caller their own logins, failed attempts and password changes, newest first', async () => {
    const alice = await app.signupVerifiedAndLogin();
    const wrong = await app.request('POST', '/api/login', {
      body: { email: alice.email, password: 'not the password at all' },
    });
    expect(wrong.status).toBe(401);
    const again = await app.request('POST', '/api/login', {
      body: { email: alice.email, password: alice.password },
    });
    expect(again.status).toBe(200);

    const activity = await app.request('GET', '/api/accounts/activity', { token: alice.token });
    expect(activity.status).toBe(200);
    const events: Array<{ seq: number; action: string }> = activity.body.events;
    // Signup, verification and device tracking add their own rows; this test is about the login outcomes.
    const logins = events.filter((e) => e.action === 'login.succeeded' || e.action === 'login.failed');
    expect(logins.map((e) => e.action)).toEqual(['login.succeeded', 'login.failed', 'login.succeeded']);
    expect(events.map((e) => e.seq)).toEqual(
      Array.from({ length: events.length }, (_, i) => events.length - i),
    );
    const failure = logins[1]!;
    expect(failure).toMatchObject({
      actorType: 'user',
      actorId: null,
      metadata: { method: 'password', reason: 'wrong_password' },
      ip: '127.0.0.1',
    });
    expect(activity.body.nextCursor).toBeNull();

    const failed = await app.request('GET', '/api/accounts/activity?action=login.failed', {
      token: alice.token,
    });
    expect(failed.body.events.map((e: { seq: number }) => e.seq)).toEqual([failure.seq]);
    const page = await app.request('GET', '/api/accounts/activity?limit=1', { token: alice.token });
    expect(page.body.events.map((e: { seq: number }) => e.seq)).toEqual([events[0]!.seq]);
    const next = await app.request('GET', `/api/accounts/activity?limit=1&cursor=${page.body.nextCursor}`, {
      token: alice.token,
    });
    expect(next.body.events.map((e: { seq: number }) => e.seq)).toEqual([events[1]!.seq]);
  });

  it('never shows another user’s events', async () => {
    const bob = await app.signupVerifiedAndLogin();
    const carol = await app.signupVerifiedAndLogin();
    const bobs = await app.request('GET', '/api/accounts/activity', { token: bob.token });
    const carols = await app.request('GET', '/api/accounts/activity', { token: carol.token });
    const bobIds = new Set(bobs.body.events.map((e: { id: string }) => e.id));
    expect(carols.body.events.length).toBeGreaterThan(0);
    for (const event of carols.body.events) expect(bobIds.has(event.id)).toBe(false);
  });

  it('needs a session (401) and rejects org actions and bad paging (400)', async () => {
    const anonymous = await app.request('GET', '/api/accounts/activity');
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error.code).toBe('UNAUTHENTICATED');
    const dave = await app.signupVerifiedAndLogin();
    for (const query of ['action=machine.added', 'limit=500', 'cursor=-1']) {
      const bad = await app.request('GET', `/api/accounts/activity?${query}`, { token: dave.token });
      expect(bad.status, query).toBe(400);
      expect(bad.body.error.code, query).toBe('VALIDATION_FAILED');
    }
  });
});

describe('org audit routes before membership', () => {
  it('answers 404 for the audit log of an org the caller is not a member of', async () => {
    const erin = await app.signupVerifiedAndLogin();
    for (const path of [`/api/orgs/${randomUUID()}/audit`, `/api/orgs/${randomUUID()}/audit/verify`]) {
      const response = await app.request('GET', path, { token: erin.token });
      expect(response.status).toBe(404);
      expect(response.body.error.code).toBe('NOT_FOUND');
    }
  });
});

describe('the audit-events topic', () => {
  const deliver = (envelope: unknown, messageId: string) =>
    (getFunction('audit-consumer') as CloudEventHandler)(
      pubsubCloudEvent('audit-events', envelope, messageId),
    );

  it('chains a valid event from another service into its org, once per event id, at the time it arrived', async () => {
    const orgId = randomUUID();
    const db = app.runtime.platform.db;
    const envelope = await db.transaction().execute((tx) =>
      enqueue(
        tx,
        'audit-events',
        {
          action: 'machine.added',
          actorType: 'api_key',
          actorId: 'key-9',
          targetType: 'machine',
          targetId: 'm-1',
          metadata: { hostname: 'build-01' },
        },
        { now: new Date('2026-05-01T00:00:00Z'), orgId },
      ),
    );
    const before = Date.now();
    await app.settle();
    await deliver(envelope, 'redelivery-1');
    const rows = await db.selectFrom('audit_logs').selectAll().where('chain', '=', orgChain(orgId)).execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      seq: 1,
      org_id: orgId,
      action: 'machine.added',
      actor_type: 'api_key',
      actor_id: 'key-9',
      target_type: 'machine',
      target_id: 'm-1',
      // The producer's own time is kept as what it said; the chain's time is ours.
      metadata: { hostname: 'build-01', occurredAt: '2026-05-01T00:00:00.000Z' },
    });
    expect(rows[0]?.created_at.getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect(rows[0]?.created_at.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
  });

  it('never lets a producer choose the row time: a backdated or future event is chained now, its claim in metadata', async () => {
    const orgId = randomUUID();
    const db = app.runtime.platform.db;
    const base = { actorType: 'system' as const, actorId: null, metadata: { occurredAt: 'forged' } };
    const backdated = makeEnvelope(
      'audit-events',
      { ...base, action: 'machine.deleted' },
      new Date('2019-01-01T00:00:00Z'),
      orgId,
    );
    const future = makeEnvelope(
      'audit-events',
      { ...base, action: 'plan.changed' },
      new Date('2099-01-01T00:00:00Z'),
      orgId,
    );
    const before = Date.now();
    await deliver(backdated, 'backdated-1');
    await deliver(future, 'future-1');
    const rows = await db
      .selectFrom('audit_logs')
      .select(['action', 'created_at', 'metadata'])
      .where('chain', '=', orgChain(orgId))
      .orderBy('seq')
      .execute();
    expect(rows.map((r) => r.action)).toEqual(['machine.deleted', 'plan.changed']);
    for (const row of rows) {
      expect(row.created_at.getTime()).toBeGreaterThanOrEqual(before - 1000);
      expect(row.created_at.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
    }
    expect(rows.map((r) => (r.metadata as { occurredAt: string }).occurredAt)).toEqual([
      '2019-01-01T00:00:00.000Z',
      '2099-01-01T00:00:00.000Z',
    ]);
    // Row times never go backwards along the chain, whatever producers claim.
    expect(rows[1]!.created_at.getTime()).toBeGreaterThanOrEqual(rows[0]!.created_at.getTime());
  });

  it('drops, logs and counts events claiming an action of ours (member.role_changed, api_key.created, sso.login…)', async () => {
    const orgId = randomUUID();
    const now = new Date();
    const metrics = app.runtime.platform.metrics;
    const droppedBefore = metrics.value('audit_events_dropped');
    const ours = [
      'member.role_changed',
      'member.joined',
      'api_key.created',
      'sso.login',
      'session.started',
      'recording.archived',
      'ip_allowlist.updated',
      'auth_session.revoked',
      'backup.verified',
    ];
    for (const [i, action] of ours.entries()) {
      const metadata =
        action === 'recording.archived'
          ? { sizeBytes: 1, sha256: 'a'.repeat(64) }
          : { from: 'viewer', to: 'owner' };
      await deliver(
        makeEnvelope(
          'audit-events',
          { action, actorType: 'user', actorId: randomUUID(), metadata },
          now,
          orgId,
        ),
        `ours-${i}`,
      );
    }
    expect(await chainRows(app.runtime.platform.db, orgChain(orgId))).toEqual([]);
    expect(metrics.value('audit_events_dropped') - droppedBefore).toBe(ours.length);
    // Acknowledged, not retried: each one is recorded as processed.
    const processed = await app.runtime.platform.db
      .selectFrom('processed_events')
      .select('event_id')
      .where('consumer', '=', 'audit')
      .execute();
    expect(processed.length).toBeGreaterThanOrEqual(ours.length);
  });

  it('drops events outside the closed org action list, without an org, or with bad metadata', async () => {
    const orgId = randomUUID();
    const now = new Date();
    const base = { actorType: 'system' as const, actorId: null };
    const invalid = [
      makeEnvelope('audit-events', { ...base, action: 'login.succeeded' }, now, orgId),
      makeEnvelope('audit-events', { ...base, action: 'machine.exploded' }, now, orgId),
      makeEnvelope('audit-events', { ...base, action: 'machine.added' }, now),
      makeEnvelope('audit-events', { ...base, action: 'machine.added' }, now, 'not-a-uuid'),
      makeEnvelope(
        'audit-events',
        { ...base, action: 'recording.archived', metadata: { sizeBytes: 'big' } },
        now,
        orgId,
      ),
    ];
    for (const [i, envelope] of invalid.entries()) await deliver(envelope, `invalid-${i}`);
    expect(await chainRows(app.runtime.platform.db, orgChain(orgId))).toEqual([]);
  });

  it('chains deliveries that arrive together into one gap-free chain, each event once, dropping bad ones', async () => {
    const orgId = randomUUID();
    const db = app.runtime.platform.db;
    const event = (i: number) =>
      makeEnvelope(
        'audit-events',
        {
          action: 'machine.added',
          actorType: 'api_key',
          actorId: `key-${i}`,
          targetType: 'machine',
          targetId: `m-${i}`,
          metadata: { hostname: `host-${i}` },
        },
        new Date('2026-05-01T00:00:00Z'),
        orgId,
      );
    const valid = Array.from({ length: 24 }, (_, i) => event(i));
    const bad = makeEnvelope(
      'audit-events',
      { action: 'machine.exploded', actorType: 'system', actorId: null },
      new Date(),
      orgId,
    );
    // Everything at once, with two events delivered twice and an invalid one among them.
    await Promise.all([
      ...valid.map((envelope, i) => deliver(envelope, `together-${i}`)),
      deliver(bad, 'together-bad'),
      deliver(valid[3], 'together-3-again'),
      deliver(valid[17], 'together-17-again'),
    ]);
    const rows = await db
      .selectFrom('audit_logs')
      .select(['seq', 'target_id'])
      .where('chain', '=', orgChain(orgId))
      .orderBy('seq')
      .execute();
    expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: 24 }, (_, i) => i + 1));
    expect(new Set(rows.map((r) => r.target_id)).size).toBe(24);
    const { audit } = await auditDeps();
    expect(await audit.verify(orgChain(orgId))).toMatchObject({ valid: true, count: 24 });
  });
});

describe('the hourly audit-checkpoint schedule', () => {
  it('writes a signed checkpoint for each chain that moved to the local checkpoint bucket', async () => {
    const frank = await app.signupVerifiedAndLogin();
    const p = app.runtime.platform;
    await p.publisher.publish('audit-checkpoint', makeEnvelope('audit-checkpoint', {}, p.clock.now()));
    await p.localBus?.idle();
    const activity = await app.request('GET', '/api/accounts/activity', { token: frank.token });
    const headSeq: number = activity.body.events[0].seq;
    const dir = join(app.dataDir, 'blobs', 'audit-checkpoints', 'chains', 'user', frank.userId);
    expect(readdirSync(dir)).toEqual([`${String(headSeq).padStart(16, '0')}.json`]);
  });
});
