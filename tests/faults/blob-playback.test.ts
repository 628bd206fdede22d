import { generateKeyPairSync } from 'node:crypto';
import { Storage } from '@google-cloud/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GcsBlobStore } from '../../shared/blob/gcs.js';
import type { BlobStore } from '../../shared/blob/store.js';
import { isDependencyUnavailable } from '../../shared/errors/unavailable.js';
import type { PlaybackLinks } from '../../shared/recordings/playback.js';
import { recordingsDeps } from '../../shared/runtime/recordings.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { startFakeGcs } from '../helpers/fake-gcs.js';
import { createOrg, newUser, orgTestEnv, type TestUser } from '../helpers/orgs.js';
import { ndjson, postFrames, rawGet } from '../helpers/recordings.js';

/**
 * Object storage gone while someone plays a recording back: 503 UNAVAILABLE with Retry-After, and
 * never a signed URL for an object storage has not confirmed is there.
 */
describe('Cloud Storage unreachable', () => {
  it('answers existence checks with an outage error, so no signed link is made', async () => {
    const gcs = await startFakeGcs('sf-recordings');
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const storage = new Storage({
      projectId: 'test-project',
      apiEndpoint: gcs.url,
      credentials: {
        client_email: 'fn-recordings@test-project.iam.gserviceaccount.com',
        private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      },
      // The client's own retries (seconds of backoff) are not what is under test here.
      retryOptions: { autoRetry: false },
    });
    const store = new GcsBlobStore(storage.bucket('sf-recordings'));
    await store.put('orgs/o1/recordings/r1.cast.gz', Buffer.from('x'));
    expect(await store.exists('orgs/o1/recordings/r1.cast.gz')).toBe(true);
    expect(await store.exists('orgs/o1/recordings/none.cast.gz')).toBe(false);
    await gcs.close();

    const outage = await store.exists('orgs/o1/recordings/r1.cast.gz').catch((error: unknown) => error);
    expect(isDependencyUnavailable(outage)).toBe(true);
    await expect(store.read('orgs/o1/recordings/r1.cast.gz')).rejects.toSatisfy(isDependencyUnavailable);
  });
});

describe('playback while the blob store is gone', () => {
  let app: TestApp;
  let owner: TestUser;
  let recordingId: string;
  let blobs: BlobStore;
  let gone = false;
  const signed: string[] = [];

  beforeAll(async () => {
    app = await startTestApp({ env: orgTestEnv });
    owner = await newUser(app, 'player');
    const orgId = (await createOrg(app, owner)).id;
    const started = await app.request('POST', `/api/orgs/${orgId}/recordings`, {
      token: owner.token,
      body: { title: 'deploy', width: 80, height: 24, machineId: 'web-1' },
    });
    recordingId = started.body.id;
    await postFrames(app, owner.token, recordingId, 0, ndjson([[0, 'o', 'hello\r\n']]));
    await app.request('POST', `/api/recordings/${recordingId}/stop`, { token: owner.token });
    await app.settle();

    // The unit's own store, made to fail as an unreachable Cloud Storage does.
    const deps = await recordingsDeps();
    blobs = deps.blobs;
    const real = { exists: blobs.exists.bind(blobs), read: blobs.read.bind(blobs) };
    const refused = () =>
      Promise.reject(
        Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4443'), { code: 'ECONNREFUSED' }),
      );
    blobs.exists = (key) => (gone ? refused() : real.exists(key));
    blobs.read = (key) => (gone ? refused() : real.read(key));
    const issue = deps.playback.issue.bind(deps.playback);
    deps.playback.issue = async (...args: Parameters<PlaybackLinks['issue']>) => {
      const link = await issue(...args);
      signed.push(link.url);
      return link;
    };
  }, 120_000);
  afterAll(() => app?.stop());

  const playbackAudits = async () =>
    (
      await app.runtime.platform.db
        .selectFrom('audit_logs')
        .select('id')
        .where('target_id', '=', recordingId)
        .where('action', '=', 'recording.playback_issued')
        .execute()
    ).length;

  it('asking for a link answers 503 UNAVAILABLE with Retry-After, signs nothing and audits nothing', async () => {
    const audits = await playbackAudits();
    gone = true;
    const refused = await app.request('GET', `/api/recordings/${recordingId}/playback`, {
      token: owner.token,
    });
    gone = false;
    expect(refused.status, refused.text).toBe(503);
    expect(refused.body.error.code).toBe('UNAVAILABLE');
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(refused.body.url).toBeUndefined();
    expect(refused.text).not.toMatch(/ECONNREFUSED|4443|at .*\.(ts|js)/);
    expect(signed).toHaveLength(0);
    expect(await playbackAudits()).toBe(audits);

    const retried = await app.request('GET', `/api/recordings/${recordingId}/playback`, {
      token: owner.token,
    });
    expect(retried.status, retried.text).toBe(200);
    expect(signed).toEqual([retried.body.url]);
  });

  it('a link followed while storage is away answers 503, and works once it is back', async () => {
    const link = await app.request('GET', `/api/recordings/${recordingId}/playback`, { token: owner.token });
    const url = new URL(link.body.url);
    gone = true;
    const refused = await rawGet(app, `${url.pathname}${url.search}`);
    gone = false;
    expect(refused.status).toBe(503);
    expect(JSON.parse(refused.body.toString()).error.code).toBe('UNAVAILABLE');
    expect(refused.headers['retry-after']).toMatch(/^\d+$/);
    expect((await rawGet(app, `${url.pathname}${url.search}`)).status).toBe(200);
  });

  it('no link is signed for an archive that is not in storage', async () => {
    const recording = await app.runtime.platform.db
      .selectFrom('recordings')
      .select('blob_key')
      .where('id', '=', recordingId)
      .executeTakeFirstOrThrow();
    await blobs.delete(recording.blob_key as string);
    const before = signed.length;
    const missing = await app.request('GET', `/api/recordings/${recordingId}/playback`, {
      token: owner.token,
    });
    expect(missing.status, missing.text).toBe(404);
    expect(missing.body.error.code).toBe('NOT_FOUND');
    expect(missing.body.url).toBeUndefined();
    expect(signed).toHaveLength(before);
  });
});
