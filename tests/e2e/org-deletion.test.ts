import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditDeps } from '../../functions/audit/deps.js';
import { orgChain } from '../../shared/audit/chain.js';
import { localPlaybackPath } from '../../shared/recordings/playback.js';
import { DAY_MS, FakeClock, MINUTE_MS } from '../../shared/time/clock.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { issueApiKey } from '../helpers/keys.js';
import {
  createOrg,
  expectError,
  insertInvitation,
  insertSession,
  newMember,
  newUser,
  orgAudit,
  orgTestEnv,
  runScheduled,
  signInAgain,
  sudoToken,
  type TestUser,
} from '../helpers/orgs.js';
import { ndjson, postFrames, rawGet } from '../helpers/recordings.js';

const clock = new FakeClock('2026-07-01T10:00:00Z');
let app: TestApp;
let owner: TestUser;

beforeAll(async () => {
  app = await startTestApp({ clock, env: orgTestEnv });
  owner = await newUser(app, 'owner');
}, 180_000);
afterAll(() => app?.stop());

/** An org with an admin, an API key, an SSO-bound session of the owner and one archived recording. */
async function populatedOrg() {
  owner = await signInAgain(app, owner);
  const org = await createOrg(app, owner);
  const admin = await newMember(app, org.id, 'admin');
  const key = await issueApiKey(app, org.id, 'admin');
  const bound = await insertSession(app, owner.userId, org.id);
  const invitation = await insertInvitation(app, org.id);
  const started = await app.request('POST', `/api/orgs/${org.id}/recordings`, {
    token: owner.token,
    body: { title: 'deploy', width: 80, height: 24 },
  });
  expect(started.status, started.text).toBe(201);
  const recordingId: string = started.body.id;
  expect((await postFrames(app, owner.token, recordingId, 0, ndjson([[0.1, 'o', 'hello']]))).status).toBe(
    202,
  );
  expect(
    (await app.request('POST', `/api/recordings/${recordingId}/stop`, { token: owner.token })).status,
  ).toBe(202);
  await app.settle();
  const playback = await app.request('GET', `/api/recordings/${recordingId}/playback`, {
    token: admin.token,
  });
  expect(playback.status, playback.text).toBe(200);
  const link = new URL(playback.body.url);
  const playbackPath = `${link.pathname}${link.search}`;
  expect((await rawGet(app, playbackPath)).status).toBe(200);
  return { org, admin, key, bound, invitation, recordingId, playbackPath };
}

async function deleteOrg(orgId: string, slug: string) {
  return app.request('DELETE', `/api/orgs/${orgId}`, {
    token: await sudoToken(app, owner),
    body: { confirmSlug: slug },
  });
}

describe('deleting an org', () => {
  it('takes an owner inside the step-up window who types the slug back', async () => {
    const { org, admin } = await populatedOrg();
    expectError(
      await app.request('DELETE', `/api/orgs/${org.id}`, {
        token: owner.token,
        body: { confirmSlug: org.slug },
      }),
      403,
      'STEP_UP_REQUIRED',
    );
    const adminSudo = await sudoToken(app, admin);
    expectError(
      await app.request('DELETE', `/api/orgs/${org.id}`, {
        token: adminSudo,
        body: { confirmSlug: org.slug },
      }),
      403,
      'INSUFFICIENT_ROLE',
    );
    expectError(await deleteOrg(org.id, `${org.slug}-typo`), 400, 'VALIDATION_FAILED');
    expect((await app.request('GET', `/api/orgs/${org.id}/members`, { token: owner.token })).status).toBe(
      200,
    );
  });

  it('at once ends bound sessions, stops keys and invitations, and makes the org 404 for every member', async () => {
    const { org, admin, key, bound, invitation, recordingId, playbackPath } = await populatedOrg();
    const deleted = await deleteOrg(org.id, org.slug);
    expect(deleted.status, deleted.text).toBe(202);
    expect(deleted.body).toEqual({
      orgId: org.id,
      purgeAfter: new Date(clock.now().getTime() + 7 * DAY_MS).toISOString(),
    });

    expectError(
      await app.request('GET', `/api/orgs/${org.id}/members`, { token: key }),
      401,
      'UNAUTHENTICATED',
    );
    expectError(
      await app.request('GET', '/api/sessions/current', { token: bound.token }),
      401,
      'UNAUTHENTICATED',
    );
    for (const user of [owner, admin]) {
      for (const path of [
        `/api/orgs/${org.id}/members`,
        `/api/orgs/${org.id}/audit`,
        `/api/orgs/${org.id}/audit/verify`,
        `/api/orgs/${org.id}/recordings`,
        `/api/recordings/${recordingId}/playback`,
      ]) {
        expectError(await app.request('GET', path, { token: user.token }), 404, 'NOT_FOUND');
      }
      const list = await app.request('GET', '/api/orgs', { token: user.token });
      expect(list.body.orgs.map((o: { id: string }) => o.id)).not.toContain(org.id);
    }
    // A playback link issued a moment before the deletion, still inside its 15 minutes, stops too.
    expect((await rawGet(app, playbackPath)).status).toBe(404);
    // Members cannot leave, be removed or be changed in an org that is gone.
    expectError(
      await app.request('POST', `/api/orgs/${org.id}/leave`, { token: admin.token }),
      404,
      'NOT_FOUND',
    );
    const accepted = await app.request('POST', '/api/orgs/invitations/accept', {
      token: (await newUser(app, 'invitee')).token,
      body: { token: invitation.token },
    });
    expect(accepted.status).not.toBe(200);
    // Deleting it twice finds nothing.
    expectError(await deleteOrg(org.id, org.slug), 404, 'NOT_FOUND');

    const actions = (await orgAudit(app, org.id)).map((r) => r.action);
    expect(actions.at(-1)).toBe('org.deletion_requested');
  });

  it('can be undone by an owner within the grace period; stopped credentials stay stopped', async () => {
    const { org, admin, key } = await populatedOrg();
    expect((await deleteOrg(org.id, org.slug)).status).toBe(202);
    clock.advance(7 * DAY_MS - MINUTE_MS);
    owner = await signInAgain(app, owner);
    expectError(
      await app.request('POST', `/api/orgs/${org.id}/restore`, {
        token: (await signInAgain(app, admin)).token,
      }),
      404,
      'NOT_FOUND',
    );
    const outsider = await newUser(app, 'outsider');
    expectError(
      await app.request('POST', `/api/orgs/${org.id}/restore`, { token: outsider.token }),
      404,
      'NOT_FOUND',
    );
    const restored = await app.request('POST', `/api/orgs/${org.id}/restore`, { token: owner.token });
    expect(restored.status, restored.text).toBe(200);
    expect(restored.body).toEqual({ id: org.id, name: org.name, slug: org.slug });
    expectError(
      await app.request('POST', `/api/orgs/${org.id}/restore`, { token: owner.token }),
      409,
      'CONFLICT',
    );

    const adminLogin = await app.request('GET', `/api/orgs/${org.id}/members`, {
      token: await sudoToken(app, admin),
    });
    expect(adminLogin.status).toBe(200);
    expectError(
      await app.request('GET', `/api/orgs/${org.id}/members`, { token: key }),
      401,
      'UNAUTHENTICATED',
    );
    // Later sweeps leave a restored org alone.
    clock.advance(DAY_MS);
    await runScheduled(app, clock, 'maintenance-sweep');
    owner = await signInAgain(app, owner);
    expect((await app.request('GET', `/api/orgs/${org.id}/members`, { token: owner.token })).status).toBe(
      200,
    );
    expect((await orgAudit(app, org.id)).map((r) => r.action).at(-1)).toBe('org.restored');
  });

  it('is purged after the grace period: data and recordings gone, the audit chain closed, verified and signed', async () => {
    const { org, admin, recordingId } = await populatedOrg();
    const db = app.runtime.platform.db;
    const recording = await db
      .selectFrom('recordings')
      .select('blob_key')
      .where('id', '=', recordingId)
      .executeTakeFirstOrThrow();
    const { blobs } = await (await import('../../shared/runtime/recordings.js')).recordingsDeps();
    expect(await blobs.get(recording.blob_key as string)).not.toBeNull();

    expect((await deleteOrg(org.id, org.slug)).status).toBe(202);
    clock.advance(6 * DAY_MS);
    await runScheduled(app, clock, 'maintenance-sweep');
    expect(
      await db.selectFrom('memberships').select('user_id').where('org_id', '=', org.id).execute(),
    ).toHaveLength(2);

    clock.advance(DAY_MS);
    owner = await signInAgain(app, owner);
    expectError(
      await app.request('POST', `/api/orgs/${org.id}/restore`, { token: owner.token }),
      409,
      'CONFLICT',
    );
    await runScheduled(app, clock, 'maintenance-sweep');
    await runScheduled(app, clock, 'recordings-sweep');
    await runScheduled(app, clock, 'audit-checkpoint');

    for (const table of [
      'memberships',
      'invitations',
      'api_keys',
      'recordings',
      'session_org_activity',
    ] as const) {
      const left = await db.selectFrom(table).select('org_id').where('org_id', '=', org.id).execute();
      expect(left, table).toEqual([]);
    }
    expect(await blobs.get(recording.blob_key as string)).toBeNull();
    // Playback is gone for every former member, and a correctly signed, unexpired link finds nothing.
    for (const user of [owner, await signInAgain(app, admin)]) {
      expectError(
        await app.request('GET', `/api/recordings/${recordingId}/playback`, { token: user.token }),
        404,
        'NOT_FOUND',
      );
    }
    const key = await (await import('../../shared/runtime/recordings.js')).recordingsDeps();
    const forged = localPlaybackPath(
      await key.blobUrlKey(),
      recordingId,
      new Date(clock.now().getTime() + MINUTE_MS),
    );
    expect((await rawGet(app, forged)).status).toBe(404);
    const tombstone = await db
      .selectFrom('orgs')
      .selectAll()
      .where('id', '=', org.id)
      .executeTakeFirstOrThrow();
    expect(tombstone).toMatchObject({ name: '', slug: `deleted-${org.id}`, purged_at: clock.now() });
    expect(tombstone.audit_expires_at).toEqual(new Date(clock.now().getTime() + 400 * DAY_MS));
    // The slug is free again.
    expect((await createOrg(app, owner, org.slug)).slug).toBe(org.slug);
    expectError(
      await app.request('POST', `/api/orgs/${org.id}/restore`, { token: owner.token }),
      404,
      'NOT_FOUND',
    );

    const rows = await orgAudit(app, org.id);
    expect(rows.at(-1)).toMatchObject({ action: 'org.deleted', actor_type: 'system' });
    const { audit } = await auditDeps();
    const report = await audit.verify(orgChain(org.id));
    expect(report).toMatchObject({ valid: true, count: rows.length });
    expect(report.checkpoint).toMatchObject({
      seq: rows.length,
      signatureValid: true,
      hash: rows.at(-1)?.hash,
    });
    // A second purge run finds nothing left to do.
    await runScheduled(app, clock, 'maintenance-sweep');
    expect((await orgAudit(app, org.id)).length).toBe(rows.length);
  });
});
