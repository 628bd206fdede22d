import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { archiveFunction } from '../../functions/archive/handlers.js';
import { LocalBlobStore } from '../../shared/blob/local.js';
import { pubsubCloudEvent } from '../../shared/bus/consumer.js';
import { createLogger } from '../../shared/log/logger.js';
import { ARCHIVE_MAX_ATTEMPTS, Archiver } from '../../shared/recordings/archiver.js';
import type { FrameBuffer } from '../../shared/recordings/frame-buffer.js';
import { BUFFER_DISCARD_GRACE_MS } from '../../shared/recordings/lifecycle.js';
import { archiveKey } from '../../shared/recordings/model.js';
import { PostgresFrameBuffer } from '../../shared/recordings/postgres-frame-buffer.js';
import { PurgedOrgRecordings } from '../../shared/recordings/purge.js';
import { RecordingService } from '../../shared/recordings/service.js';
import { RecordingSweep } from '../../shared/recordings/sweep.js';
import { FakeClock, MINUTE_MS } from '../../shared/time/clock.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { issueApiKey } from '../helpers/keys.js';
import {
  createOrg,
  grantMembership,
  newMember,
  newUser,
  orgTestEnv,
  type TestUser,
} from '../helpers/orgs.js';
import { offerBody } from '../helpers/raw-request.js';
import { ndjson, parseAsciicast, postFrames, rawGet } from '../helpers/recordings.js';

const MiB = 1024 * 1024;
const clock = new FakeClock('2026-04-01T10:00:00Z');
let app: TestApp;
let owner: TestUser;
let viewer: TestUser;
let outsider: TestUser;
let orgId: string;

beforeAll(async () => {
  // A 1 MiB per-recording cap (the smallest allowed) so the cap is cheap to reach.
  app = await startTestApp({ clock, env: { ...orgTestEnv, RECORDING_MAX_BYTES: String(MiB) } });
  owner = await newUser(app, 'owner');
  viewer = await newUser(app, 'viewer');
  outsider = await newUser(app, 'outsider');
  orgId = (await createOrg(app, owner)).id;
  await grantMembership(app, orgId, viewer.userId, 'viewer');
  await createOrg(app, outsider);
  // A sign-in from a public address waits for the login unit's location database (60 MiB read in
  // the background from the unit's first request), so that read is not counted as upload memory.
  const located = await app.request('POST', '/api/login', {
    body: { email: owner.email, password: owner.password },
    headers: { 'x-forwarded-for': '8.8.8.8' },
  });
  expect(located.status, located.text).toBe(200);
  // Boots the runtime and signs up three users: on a loaded shared machine that outlasts the default.
}, 180_000);
afterAll(() => app?.stop());

async function start(token = owner.token, title = 'deploy') {
  return app.request('POST', `/api/orgs/${orgId}/recordings`, {
    token,
    body: { title, width: 80, height: 24, machineId: 'web-1' },
  });
}

async function auditActions(target: string) {
  const rows = await app.runtime.platform.db
    .selectFrom('audit_logs')
    .select(['action', 'metadata', 'actor_type'])
    .where('target_id', '=', target)
    .orderBy('seq')
    .execute();
  return rows.map((r) => ({
    action: r.action,
    actorType: r.actor_type,
    metadata: (typeof r.metadata === 'string' ? JSON.parse(r.metadata) : r.metadata) as Record<
      string,
      unknown
    >,
  }));
}

const chunkCount = async (id: string) =>
  (
    await app.runtime.platform.db
      .selectFrom('recording_chunks')
      .select('seq')
      .where('recording_id', '=', id)
      .execute()
  ).length;

describe('recording a session end to end', () => {
  it('archives frames in seq order whatever order they arrived in, and plays back a valid asciicast v2', async () => {
    const started = await start();
    expect(started.status).toBe(201);
    const id = started.body.id as string;

    expect((await postFrames(app, owner.token, id, 1, ndjson([[1.5, 'o', 'second\r\n']]))).status).toBe(202);
    const first = await postFrames(
      app,
      owner.token,
      id,
      0,
      ndjson([
        [0.1, 'o', '$ ls\r\n'],
        [1.0, 'i', 'l'],
      ]),
    );
    expect(first.status).toBe(202);
    expect(first.body).toEqual({ seq: 0, duplicate: false });
    const repeat = await postFrames(app, owner.token, id, 0, ndjson([[0.1, 'o', 'REPLAYED']]));
    expect(repeat.status).toBe(202);
    expect(repeat.body).toEqual({ seq: 0, duplicate: true });
    expect(
      (
        await postFrames(
          app,
          owner.token,
          id,
          2,
          ndjson([
            [2, 'r', '100x30'],
            [2.5, 'm', 'done'],
          ]),
        )
      ).status,
    ).toBe(202);

    const stopped = await app.request('POST', `/api/recordings/${id}/stop`, { token: owner.token });
    expect(stopped.status).toBe(202);
    expect((await app.request('POST', `/api/recordings/${id}/stop`, { token: owner.token })).status).toBe(
      202,
    );
    await app.settle();

    const list = await app.request('GET', `/api/orgs/${orgId}/recordings`, { token: viewer.token });
    expect(list.status).toBe(200);
    const listed = list.body.recordings.find((r: { id: string }) => r.id === id);
    expect(listed).toMatchObject({
      id,
      title: 'deploy',
      status: 'archived',
      startedAt: clock.now().toISOString(),
    });
    expect(listed.sha256).toMatch(/^[0-9a-f]{64}$/);

    const playback = await app.request('GET', `/api/recordings/${id}/playback`, { token: viewer.token });
    expect(playback.status).toBe(200);
    expect(new Date(playback.body.expiresAt).getTime()).toBe(clock.now().getTime() + 15 * MINUTE_MS);
    const url = new URL(playback.body.url);
    const served = await rawGet(app, `${url.pathname}${url.search}`);
    expect(served.status).toBe(200);
    expect(served.headers['content-type']).toBe('application/x-asciicast');
    expect(served.headers['content-encoding']).toBe('gzip');
    expect(served.headers['content-disposition']).toBe(`attachment; filename="${id}.cast"`);
    expect(served.body.length).toBe(listed.bytes);
    expect(createHash('sha256').update(served.body).digest('hex')).toBe(listed.sha256);

    const cast = parseAsciicast(served.body);
    expect(cast.header).toEqual({
      version: 2,
      width: 80,
      height: 24,
      timestamp: Math.floor(clock.now().getTime() / 1000),
      title: 'deploy',
    });
    expect(cast.events).toEqual([
      [0.1, 'o', '$ ls\r\n'],
      [1.0, 'i', 'l'],
      [1.5, 'o', 'second\r\n'],
      [2, 'r', '100x30'],
      [2.5, 'm', 'done'],
    ]);

    expect(await chunkCount(id)).toBe(0);
    const audit = await auditActions(id);
    expect(audit.map((a) => a.action)).toEqual([
      'session.started',
      'session.stopped',
      'recording.archived',
      'recording.playback_issued',
    ]);
    expect(audit[0]?.metadata).toEqual({ machineId: 'web-1' });
    expect(audit[2]).toMatchObject({
      actorType: 'system',
      metadata: { sizeBytes: listed.bytes, sha256: listed.sha256 },
    });
  });

  it('refuses frames after the stop with 409 CONFLICT', async () => {
    const id = (await start()).body.id;
    await app.request('POST', `/api/recordings/${id}/stop`, { token: owner.token });
    const late = await postFrames(app, owner.token, id, 0, ndjson([[0, 'o', 'late']]));
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('CONFLICT');
    await app.settle();
  });
});

describe('frame validation', () => {
  let id: string;
  beforeAll(async () => {
    id = (await start()).body.id;
    await postFrames(app, owner.token, id, 10, ndjson([[10, 'o', 'ten']]));
  });

  const cases: Array<[string, string, string]> = [
    ['a line that is not JSON', '[0, "o", "ok"]\n{nope\n', 'line 2'],
    ['an event that is not a 3-tuple', '[0, "o"]\n', 'line 1'],
    ['an unknown event type', '[0, "o", "a"]\n\n[1, "x", "b"]\n', 'line 3'],
    ['data that is not a string', '[0, "o", 42]\n', 'line 1'],
    ['a negative time', '[-1, "o", "a"]\n', 'line 1'],
    ['a time that goes back within the request', '[2, "o", "a"]\n[1, "o", "b"]\n', 'line 2'],
    ['an empty body', '\n\n', 'line 1'],
  ];
  it.each(cases)('refuses %s with 400 VALIDATION_FAILED naming the line', async (_name, body, line) => {
    const res = await postFrames(app, owner.token, id, 1, body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    expect(res.body.error.issues[0].path).toBe(line);
    expect(res.body.error.issues[0].message).toContain(line);
  });

  it('refuses times that go back against the neighbouring seqs with 400 VALIDATION_FAILED', async () => {
    const after = await postFrames(app, owner.token, id, 11, ndjson([[9, 'o', 'before ten']]));
    expect(after.status).toBe(400);
    expect(after.body.error.issues[0].path).toBe('line 1');
    const before = await postFrames(
      app,
      owner.token,
      id,
      9,
      ndjson([
        [1, 'o', 'a'],
        [11, 'o', 'after ten'],
      ]),
    );
    expect(before.status).toBe(400);
    expect(before.body.error.code).toBe('VALIDATION_FAILED');
  });

  it('requires X-Frame-Seq as a non-negative integer (400) and NDJSON (415)', async () => {
    for (const seq of [null, -1, 1.5]) {
      const res = await app.request('POST', `/api/recordings/${id}/frames`, {
        token: owner.token,
        raw: ndjson([[20, 'o', 'x']]),
        headers: {
          'content-type': 'application/x-ndjson',
          ...(seq === null ? {} : { 'x-frame-seq': String(seq) }),
        },
      });
      expect(res.status).toBe(400);
      expect(res.body.error.issues[0].path).toBe('X-Frame-Seq');
    }
    const json = await app.request('POST', `/api/recordings/${id}/frames`, {
      token: owner.token,
      body: [[20, 'o', 'x']],
      headers: { 'x-frame-seq': '20' },
    });
    expect(json.status).toBe(415);
    expect(json.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('refuses a request over 4 MiB with 413 PAYLOAD_TOO_LARGE', async () => {
    const line = `${JSON.stringify([20, 'o', 'x'.repeat(1024)])}\n`;
    const res = await postFrames(
      app,
      owner.token,
      id,
      20,
      line.repeat(Math.ceil((4 * MiB) / line.length) + 1),
    );
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('refuses frames that would take the recording past RECORDING_MAX_BYTES with 413, keeping what it holds', async () => {
    const capped = (await start()).body.id;
    const line = `${JSON.stringify([1, 'o', 'y'.repeat(1000)])}\n`;
    const body = line.repeat(Math.floor((0.6 * MiB) / line.length));
    expect((await postFrames(app, owner.token, capped, 0, body)).status).toBe(202);
    const over = await postFrames(app, owner.token, capped, 1, body);
    expect(over.status).toBe(413);
    expect(over.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    expect((await postFrames(app, owner.token, capped, 0, body)).body).toEqual({ seq: 0, duplicate: true });
    expect(await chunkCount(capped)).toBe(1);
  });
});

describe('who may do what', () => {
  let id: string;
  beforeAll(async () => {
    id = (await start()).body.id;
  });

  it('lets a viewer list but not start, feed or stop recordings (403 INSUFFICIENT_ROLE)', async () => {
    const attempts = [
      await start(viewer.token),
      await postFrames(app, viewer.token, id, 0, ndjson([[0, 'o', 'x']])),
      await app.request('POST', `/api/recordings/${id}/stop`, { token: viewer.token }),
    ];
    for (const res of attempts) {
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('INSUFFICIENT_ROLE');
    }
    expect((await app.request('GET', `/api/orgs/${orgId}/recordings`, { token: viewer.token })).status).toBe(
      200,
    );
  });

  it("answers 404 NOT_FOUND for another org's recording, an unknown id and a malformed id", async () => {
    const attempts = [
      await postFrames(app, outsider.token, id, 0, ndjson([[0, 'o', 'x']])),
      await app.request('POST', `/api/recordings/${id}/stop`, { token: outsider.token }),
      await app.request('GET', `/api/recordings/${id}/playback`, { token: outsider.token }),
      await app.request('GET', `/api/orgs/${orgId}/recordings`, { token: outsider.token }),
      await app.request('POST', `/api/orgs/${orgId}/recordings`, {
        token: outsider.token,
        body: { title: 't', width: 80, height: 24 },
      }),
      await app.request('GET', '/api/recordings/00000000-0000-4000-8000-000000000000/playback', {
        token: owner.token,
      }),
      await app.request('GET', '/api/recordings/not-a-uuid/playback', { token: owner.token }),
    ];
    for (const res of attempts) {
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('NOT_FOUND');
    }
  });

  it('answers 401 without a session and 409 for playback before the archive exists', async () => {
    expect((await app.request('GET', `/api/orgs/${orgId}/recordings`)).status).toBe(401);
    const early = await app.request('GET', `/api/recordings/${id}/playback`, { token: owner.token });
    expect(early.status).toBe(409);
    expect(early.body.error.code).toBe('CONFLICT');
  });

  it('validates the start body (400 VALIDATION_FAILED)', async () => {
    const res = await app.request('POST', `/api/orgs/${orgId}/recordings`, {
      token: owner.token,
      body: { title: '', width: 0, height: 24 },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
  });
});

describe('who may feed and stop a recording', () => {
  let alice: TestUser;
  let bob: TestUser;
  let admin: TestUser;
  beforeAll(async () => {
    alice = await newMember(app, orgId, 'member', 'alice');
    bob = await newMember(app, orgId, 'member', 'bob');
    admin = await newMember(app, orgId, 'admin', 'admin');
  });

  const stop = (id: string, token: string) => app.request('POST', `/api/recordings/${id}/stop`, { token });
  const refusedBy = async (id: string, action: string) =>
    (await auditActions(id)).filter((row) => row.action === action);

  it("refuses a member appending to or stopping another member's recording with 403, and audits each refusal", async () => {
    const id = (await start(alice.token)).body.id as string;
    const frames = await postFrames(app, bob.token, id, 0, ndjson([[0, 'o', 'not typed by alice']]));
    expect(frames.status).toBe(403);
    expect(frames.body.error.code).toBe('INSUFFICIENT_ROLE');
    const stopped = await stop(id, bob.token);
    expect(stopped.status).toBe(403);
    expect(stopped.body.error.code).toBe('INSUFFICIENT_ROLE');
    expect(await chunkCount(id)).toBe(0);

    const rows = await app.runtime.platform.db
      .selectFrom('audit_logs')
      .select(['action', 'actor_type', 'actor_id', 'metadata'])
      .where('target_id', '=', id)
      .orderBy('seq')
      .execute();
    expect(rows.map((r) => [r.action, r.actor_type, r.actor_id])).toEqual([
      ['session.started', 'user', alice.userId],
      ['recording.frames_refused', 'user', bob.userId],
      ['recording.stop_refused', 'user', bob.userId],
    ]);
    expect(
      (await app.request('GET', `/api/orgs/${orgId}/recordings`, { token: owner.token })).body,
    ).toMatchObject({
      recordings: expect.arrayContaining([expect.objectContaining({ id, status: 'recording' })]),
    });
    // The starter is not hindered.
    expect((await postFrames(app, alice.token, id, 0, ndjson([[0, 'o', 'mine']]))).status).toBe(202);
    expect((await stop(id, alice.token)).status).toBe(202);
  });

  it('refuses the frames before reading their body: 403 at once, the connection closed, nothing buffered', async () => {
    const id = (await start(alice.token)).body.id as string;
    const answer = await offerBody(
      app.url,
      `/api/recordings/${id}/frames`,
      { authorization: `Bearer ${bob.token}`, 'content-type': 'application/x-ndjson', 'x-frame-seq': '0' },
      400 * MiB,
    );
    expect(answer.status).toBe(403);
    expect(answer.body.error.code).toBe('INSUFFICIENT_ROLE');
    expect(answer.headers.connection).toBe('close');
    expect(answer.closed).toBe(true);
    expect(answer.sentBeforeAnswer).toBeLessThan(32 * MiB);
    expect(answer.rssGrowthMiB).toBeLessThan(64);
    expect(await refusedBy(id, 'recording.frames_refused')).toHaveLength(1);
  });

  it('lets the API key that started a recording feed and stop it, and refuses another member key of the org', async () => {
    const starterKey = await issueApiKey(app, orgId, 'member');
    const otherKey = await issueApiKey(app, orgId, 'member');
    const id = (await start(starterKey)).body.id as string;
    expect((await postFrames(app, starterKey, id, 0, ndjson([[0, 'o', 'ci']]))).status).toBe(202);

    const refusedFrames = await postFrames(app, otherKey, id, 1, ndjson([[1, 'o', 'forged']]));
    expect(refusedFrames.status).toBe(403);
    expect(refusedFrames.body.error.code).toBe('INSUFFICIENT_ROLE');
    expect((await stop(id, otherKey)).status).toBe(403);
    // Nor a user of the org: the key, not whoever holds keys, is the principal that started it.
    expect((await stop(id, alice.token)).status).toBe(403);
    const refusals = [
      ...(await refusedBy(id, 'recording.frames_refused')),
      ...(await refusedBy(id, 'recording.stop_refused')),
    ];
    expect(refusals.map((r) => r.actorType)).toEqual(['api_key', 'api_key', 'user']);

    expect((await stop(id, starterKey)).status).toBe(202);
    const stopped = await refusedBy(id, 'session.stopped');
    expect(stopped).toHaveLength(1);
    expect(stopped[0]?.actorType).toBe('api_key');
    expect(stopped[0]?.metadata.byAdmin).toBeUndefined();
  });

  it("lets an admin feed and stop a member's recording; the stop is audited with byAdmin", async () => {
    const id = (await start(alice.token)).body.id as string;
    expect((await postFrames(app, admin.token, id, 0, ndjson([[0, 'o', 'admin note']]))).status).toBe(202);
    const adminKey = await issueApiKey(app, orgId, 'admin');
    expect((await postFrames(app, adminKey, id, 1, ndjson([[1, 'o', 'admin key note']]))).status).toBe(202);
    expect((await stop(id, admin.token)).status).toBe(202);
    const stopped = await refusedBy(id, 'session.stopped');
    expect(stopped).toHaveLength(1);
    expect(stopped[0]).toMatchObject({ actorType: 'user', metadata: { byAdmin: true } });
    expect(await refusedBy(id, 'recording.stop_refused')).toEqual([]);
  });

  it('treats a recording that names no starter as admin-only', async () => {
    const id = (await start(alice.token)).body.id as string;
    // Every start stores its starter (since migration 0008); a row naming none is made by hand.
    await app.runtime.platform.db
      .updateTable('recordings')
      .set({ started_by_id: null })
      .where('id', '=', id)
      .execute();
    expect((await postFrames(app, alice.token, id, 0, ndjson([[0, 'o', 'x']]))).status).toBe(403);
    expect((await stop(id, alice.token)).status).toBe(403);
    expect((await stop(id, owner.token)).status).toBe(202);
    expect((await refusedBy(id, 'session.stopped'))[0]?.metadata.byAdmin).toBe(true);
  });

  it("still answers 404 for another org's recording, before any ownership check or audit row", async () => {
    const id = (await start(alice.token)).body.id as string;
    expect((await stop(id, outsider.token)).status).toBe(404);
    expect((await postFrames(app, outsider.token, id, 0, ndjson([[0, 'o', 'x']]))).status).toBe(404);
    expect((await auditActions(id)).map((r) => r.action)).toEqual(['session.started']);
  });
});

describe('playback links', () => {
  let path: string;
  let id: string;
  beforeAll(async () => {
    id = (await start()).body.id;
    await postFrames(app, owner.token, id, 0, ndjson([[0, 'o', 'hello']]));
    await app.request('POST', `/api/recordings/${id}/stop`, { token: owner.token });
    await app.settle();
    const url = new URL(
      (await app.request('GET', `/api/recordings/${id}/playback`, { token: owner.token })).body.url,
    );
    path = `${url.pathname}${url.search}`;
  });

  it('refuses a tampered link with 403 INSUFFICIENT_ROLE', async () => {
    const url = new URL(`http://x${path}`);
    const sig = url.searchParams.get('sig') ?? '';
    const flipped = `${sig.slice(0, -1)}${sig.endsWith('0') ? '1' : '0'}`;
    const later = String(Number(url.searchParams.get('expires')) + 3600);
    const other = (await start()).body.id;
    const forged = [
      `${url.pathname}?expires=${url.searchParams.get('expires')}&sig=${flipped}`,
      `${url.pathname}?expires=${later}&sig=${sig}`,
      `/api/recordings/blob/${other}${url.search}`,
      `${url.pathname}?expires=${url.searchParams.get('expires')}`,
      url.pathname,
    ];
    for (const p of forged) {
      const res = await rawGet(app, p);
      expect(res.status).toBe(403);
      expect(JSON.parse(res.body.toString()).error.code).toBe('INSUFFICIENT_ROLE');
    }
    expect((await rawGet(app, path)).status).toBe(200);
  });

  it('serves a link for 15 minutes and refuses it afterwards with 403 INSUFFICIENT_ROLE', async () => {
    clock.advance(15 * MINUTE_MS - 1000);
    expect((await rawGet(app, path)).status).toBe(200);
    clock.advance(1000);
    const expired = await rawGet(app, path);
    expect(expired.status).toBe(403);
    expect(JSON.parse(expired.body.toString()).error.code).toBe('INSUFFICIENT_ROLE');
  });
});

describe('archive crashes and redelivery', () => {
  const logger = createLogger('silent');

  /** A stopped recording whose recording-stopped event is taken out of the outbox for the test to deliver. */
  async function stoppedRecording(frames: number) {
    const p = app.runtime.platform;
    const id = (await start()).body.id as string;
    for (let seq = 0; seq < frames; seq++) {
      await postFrames(app, owner.token, id, seq, ndjson([[seq, 'o', `frame ${seq}\r\n`]]));
    }
    const service = new RecordingService({ db: p.db, buffer: new PostgresFrameBuffer(p.db), maxBytes: MiB });
    await service.stop(id, { actor: { type: 'user', id: owner.userId }, role: 'owner' }, null, clock.now());
    const row = await p.db
      .deleteFrom('outbox')
      .where('topic', '=', 'recording-stopped')
      .returningAll()
      .executeTakeFirstOrThrow();
    const envelope = typeof row.envelope === 'string' ? JSON.parse(row.envelope) : row.envelope;
    return { id, event: pubsubCloudEvent('recording-stopped', envelope, `m-${id}`) };
  }

  function archiveUnit(
    options: { buffer?: FrameBuffer; failUploadTimes?: number; crashAfterUpload?: number } = {},
  ) {
    const p = app.runtime.platform;
    const blobs = new LocalBlobStore(app.dataDir, 'recordings');
    let uploadFailures = options.failUploadTimes ?? 0;
    let crashes = options.crashAfterUpload ?? 0;
    const flaky = Object.assign(Object.create(blobs), {
      upload: (...args: Parameters<LocalBlobStore['upload']>) => {
        if (uploadFailures-- > 0) return Promise.reject(new Error('storage unavailable'));
        return blobs.upload(...args);
      },
    }) as LocalBlobStore;
    const buffer = options.buffer ?? new PostgresFrameBuffer(p.db);
    const archiver = new Archiver({
      db: p.db,
      buffer,
      blobs: flaky,
      logger,
      faults: {
        afterUpload: () => {
          if (crashes-- > 0) throw new Error('killed after upload');
        },
      },
    });
    const recordings = new RecordingService({ db: p.db, buffer, maxBytes: MiB });
    const sweep = new RecordingSweep({ db: p.db, buffer, recordings, logger, idleStopMinutes: 1440 });
    const purge = new PurgedOrgRecordings({ db: p.db, blobs: flaky, buffer, logger });
    return { deliver: archiveFunction(async () => ({ platform: p, archiver, sweep, purge })), blobs, sweep };
  }

  async function archivedState(id: string, blobs: LocalBlobStore) {
    const recording = await app.runtime.platform.db
      .selectFrom('recordings')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    const objects = (await blobs.list(`orgs/${orgId}/recordings/`)).filter((k) => k.includes(id));
    return {
      recording,
      objects,
      chunks: await chunkCount(id),
      audit: (await auditActions(id)).map((a) => a.action),
    };
  }

  it('a crash between upload and commit, then redelivery, leaves exactly one archive and every frame', async () => {
    const { id, event } = await stoppedRecording(3);
    const unit = archiveUnit({ crashAfterUpload: 1 });
    await expect(unit.deliver(event)).rejects.toThrow('killed after upload');
    const crashed = await archivedState(id, unit.blobs);
    expect(crashed.recording.status).toBe('archiving');
    expect(crashed.recording.archive_attempts).toBe(1);
    expect(crashed.chunks).toBe(3);

    await unit.deliver(event);
    const done = await archivedState(id, unit.blobs);
    expect(done.recording.status).toBe('archived');
    expect(done.objects).toEqual([archiveKey(orgId, id)]);
    expect(done.chunks).toBe(0);
    expect(done.audit.filter((a) => a === 'recording.archived')).toHaveLength(1);
    const bytes = (await unit.blobs.get(archiveKey(orgId, id))) as Buffer;
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(done.recording.sha256);
    expect(parseAsciicast(bytes).events.map((e) => e[2])).toEqual([
      'frame 0\r\n',
      'frame 1\r\n',
      'frame 2\r\n',
    ]);
  });

  it('a crash after the commit but before the buffer is deleted is finished by the redelivery', async () => {
    const { id, event } = await stoppedRecording(2);
    const real = new PostgresFrameBuffer(app.runtime.platform.db);
    let discardFailures = 1;
    const buffer: FrameBuffer = {
      append: (...a) => real.append(...a),
      seal: (r) => real.seal(r),
      read: (r, w) => real.read(r, w),
      discard: (r) =>
        discardFailures-- > 0 ? Promise.reject(new Error('killed before delete')) : real.discard(r),
    };
    const unit = archiveUnit({ buffer });
    await expect(unit.deliver(event)).rejects.toThrow('killed before delete');
    const crashed = await archivedState(id, unit.blobs);
    expect(crashed.recording.status).toBe('archived');
    expect(crashed.chunks).toBe(2);
    expect(crashed.recording.buffer_discarded_at).toBeNull();

    await unit.deliver(event);
    const done = await archivedState(id, unit.blobs);
    expect(done.chunks).toBe(0);
    expect(done.recording.buffer_discarded_at).toEqual(clock.now());
    expect(done.objects).toHaveLength(1);
    expect(done.audit.filter((a) => a === 'recording.archived')).toHaveLength(1);
    expect(done.recording.sha256).toBe(crashed.recording.sha256);
  });

  it('a process that dies after the commit, before the buffer delete, leaves the buffer to the hourly sweep', async () => {
    const { id, event } = await stoppedRecording(2);
    const real = new PostgresFrameBuffer(app.runtime.platform.db);
    // The delete never returns: the process is gone, so nothing un-marks the event as processed.
    const dying: FrameBuffer = {
      append: (...a) => real.append(...a),
      seal: (r) => real.seal(r),
      read: (r, w) => real.read(r, w),
      discard: () => new Promise<void>(() => {}),
    };
    void archiveUnit({ buffer: dying }).deliver(event);
    const unit = archiveUnit();
    await vi.waitFor(async () =>
      expect((await archivedState(id, unit.blobs)).recording.status).toBe('archived'),
    );

    await unit.deliver(event);
    const redelivered = await archivedState(id, unit.blobs);
    expect(redelivered.chunks).toBe(2);
    expect(redelivered.recording.buffer_discarded_at).toBeNull();

    clock.advance(BUFFER_DISCARD_GRACE_MS);
    await unit.sweep.sweep(clock.now());
    const swept = await archivedState(id, unit.blobs);
    expect(swept.chunks).toBe(0);
    expect(swept.recording.buffer_discarded_at).toEqual(clock.now());
    expect(swept.objects).toEqual([archiveKey(orgId, id)]);
    expect(swept.audit.filter((a) => a === 'recording.archived')).toHaveLength(1);
  });

  it(`a recording that fails ${ARCHIVE_MAX_ATTEMPTS} times ends failed, keeps its frames, and keeps failing toward the dead-letter topic`, async () => {
    const { id, event } = await stoppedRecording(1);
    const unit = archiveUnit({ failUploadTimes: 100 });
    for (let attempt = 1; attempt <= ARCHIVE_MAX_ATTEMPTS; attempt++) {
      await expect(unit.deliver(event)).rejects.toThrow();
    }
    await expect(unit.deliver(event)).rejects.toThrow(/marked failed/);
    const state = await archivedState(id, unit.blobs);
    expect(state.recording.status).toBe('failed');
    expect(state.recording.archive_attempts).toBe(ARCHIVE_MAX_ATTEMPTS);
    expect(state.chunks).toBe(1);
    expect(state.objects).toEqual([]);

    // The frames stay for an operator to recover, however many sweeps go by.
    clock.advance(BUFFER_DISCARD_GRACE_MS);
    await unit.sweep.sweep(clock.now());
    expect(await chunkCount(id)).toBe(1);
  });

  it('on the local bus, a recording that cannot be archived is dead-lettered and listed as failed', async () => {
    const id = (await start()).body.id;
    await postFrames(app, owner.token, id, 0, ndjson([[0, 'o', 'x']]));
    // A file where the org's folder should be: every upload for this org fails.
    const orgDir = join(app.dataDir, 'blobs', 'recordings', 'orgs');
    mkdirSync(orgDir, { recursive: true });
    rmSync(join(orgDir, orgId), { recursive: true, force: true });
    writeFileSync(join(orgDir, orgId), 'not a folder');
    try {
      await app.request('POST', `/api/recordings/${id}/stop`, { token: owner.token });
      await app.settle();
      const dead = app.runtime.platform.localBus?.deadLetters.filter(
        (d) =>
          d.topic === 'recording-stopped' && (d.envelope.data as { recordingId: string }).recordingId === id,
      );
      expect(dead).toHaveLength(1);
      const list = await app.request('GET', `/api/orgs/${orgId}/recordings`, { token: owner.token });
      expect(list.body.recordings.find((r: { id: string }) => r.id === id)?.status).toBe('failed');
    } finally {
      rmSync(join(orgDir, orgId), { force: true });
    }
  });
});

describe('scripts/record.sh', () => {
  it('records a real command under `script`, stops, and prints a playback URL serving its output', async () => {
    const { stdout } = await promisify(execFile)(
      'bash',
      [
        'scripts/record.sh',
        '-t',
        'demo "quoted" ✓',
        '-c',
        'printf "h\\303\\251llo \\033[32mgreen\\033[0m \\"q\\" back\\\\slash\\n"; echo done',
      ],
      { env: { ...process.env, SF_URL: app.url, SF_TOKEN: owner.token, SF_ORG: orgId } },
    );
    const url = new URL(stdout.trim());
    const served = await rawGet(app, `${url.pathname}${url.search}`);
    expect(served.status).toBe(200);
    const cast = parseAsciicast(served.body);
    expect(cast.header).toMatchObject({ version: 2, title: 'demo "quoted" ✓' });
    expect(cast.events.map((e) => e[1])).toEqual(cast.events.map(() => 'o'));
    expect(cast.events.map((e) => e[2]).join('')).toBe(
      'h\u00e9llo \u001b[32mgreen\u001b[0m "q" back\\slash\r\ndone\r\n',
    );
  });
});
