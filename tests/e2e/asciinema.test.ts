import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { sha256 } from '../../shared/crypto/tokens.js';
import { FakeClock } from '../../shared/time/clock.js';
import { from, stepUp } from '../helpers/allowlist.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { ASCIINEMA_UPLOAD_PATH, uploadCast, v2Cast } from '../helpers/asciinema.js';
import { issueApiKey } from '../helpers/keys.js';
import { createOrg, newUser, orgTestEnv, type TestUser } from '../helpers/orgs.js';
import { offerBody, streamingRequest } from '../helpers/raw-request.js';
import { parseAsciicast, rawGet } from '../helpers/recordings.js';

const MiB = 1024 * 1024;
const clock = new FakeClock('2026-04-01T10:00:00Z');
let app: TestApp;
let owner: TestUser;
let orgId: string;
let otherOrgId: string;
let memberKey: string;

beforeAll(async () => {
  // 8 MiB per recording: room for uploads that span several 4 MiB batches, and a cap within reach.
  app = await startTestApp({ clock, env: { ...orgTestEnv, RECORDING_MAX_BYTES: String(8 * MiB) } });
  owner = await newUser(app, 'owner');
  const outsider = await newUser(app, 'outsider');
  orgId = (await createOrg(app, owner)).id;
  otherOrgId = (await createOrg(app, outsider)).id;
  memberKey = await issueApiKey(app, orgId, 'member');
  // A sign-in from a public address waits for the login unit's location database (60 MiB read in
  // the background from the unit's first request), so that read is not counted as upload memory.
  const located = await app.request('POST', '/api/login', {
    body: { email: owner.email, password: owner.password },
    headers: { 'x-forwarded-for': '8.8.8.8' },
  });
  expect(located.status, located.text).toBe(200);
}, 180_000);
afterAll(() => app?.stop());

async function auditActions(target: string) {
  const rows = await app.runtime.platform.db
    .selectFrom('audit_logs')
    .select(['action'])
    .where('target_id', '=', target)
    .orderBy('seq')
    .execute();
  return rows.map((r) => r.action);
}

/** The recording id in the URL the upload answers. */
const idOf = (url: string) => /\/api\/recordings\/([0-9a-f-]{36})\/playback$/.exec(url)?.[1] ?? '';

async function playback(id: string, token = owner.token) {
  const link = await app.request('GET', `/api/recordings/${id}/playback`, { token });
  expect(link.status).toBe(200);
  const url = new URL(link.body.url);
  const served = await rawGet(app, `${url.pathname}${url.search}`);
  expect(served.status).toBe(200);
  return parseAsciicast(served.body);
}

const counts = async () => {
  const db = app.runtime.platform.db;
  const recordings = await db.selectFrom('recordings').select('id').execute();
  const chunks = await db.selectFrom('recording_chunks').select('seq').execute();
  return { recordings: recordings.length, chunks: chunks.length };
};

const boundary = 'sfBoundary7MA4YWxkTrZu0gW';
const multipartHead = Buffer.from(
  `--${boundary}\r\nContent-Disposition: form-data; name="asciicast"; filename="ascii.cast"\r\n` +
    'Content-Type: application/octet-stream\r\n\r\n',
);
const multipartTail = Buffer.from(`\r\n--${boundary}--\r\n`);
const multipartType = { 'content-type': `multipart/form-data; boundary=${boundary}` };
const basic = (password: string) => ({
  authorization: `Basic ${Buffer.from(`alice:${password}`).toString('base64')}`,
});

describe('asciinema uploads: nothing is read before the key is', () => {
  it('answers an unauthenticated 400 MiB upload with 401 before reading it, closes the connection, and memory stays flat', async () => {
    const answer = await offerBody(app.url, ASCIINEMA_UPLOAD_PATH, multipartType, 400 * MiB, {
      prefix: multipartHead,
    });
    expect(answer.status).toBe(401);
    expect(answer.headers['content-type']).toMatch(/^text\/plain/);
    expect(answer.text).toMatch(/install-id/);
    expect(answer.headers.connection).toBe('close');
    expect(answer.closed).toBe(true);
    expect(answer.sentBeforeAnswer).toBeLessThan(32 * MiB);
    expect(answer.rssGrowthMiB).toBeLessThan(64);
  });

  it('answers a wrong key and a viewer key the same way, before the body: 401 and 403', async () => {
    const wrong = await offerBody(
      app.url,
      ASCIINEMA_UPLOAD_PATH,
      { ...multipartType, ...basic('sf_live_notarealkey') },
      400 * MiB,
      { prefix: multipartHead, chunked: true },
    );
    expect(wrong.status).toBe(401);
    expect(wrong.text).toMatch(/^Invalid API key/);
    expect(wrong.closed).toBe(true);
    expect(wrong.sentBeforeAnswer).toBeLessThan(32 * MiB);

    const viewer = await offerBody(
      app.url,
      ASCIINEMA_UPLOAD_PATH,
      { ...multipartType, ...basic(await issueApiKey(app, orgId, 'viewer')) },
      400 * MiB,
      { prefix: multipartHead },
    );
    expect(viewer.status).toBe(403);
    expect(viewer.closed).toBe(true);
    expect(viewer.sentBeforeAnswer).toBeLessThan(32 * MiB);
  });

  it('answers a JSON route’s huge body with a bad token by 401 at once, declared or chunked', async () => {
    for (const chunked of [false, true]) {
      const answer = await offerBody(
        app.url,
        `/api/orgs/${orgId}/recordings`,
        { authorization: 'Bearer not-a-session', 'content-type': 'application/json' },
        400 * MiB,
        { prefix: Buffer.from('{"title":"'), chunked },
      );
      expect(answer.status).toBe(401);
      expect(answer.body.error.code).toBe('UNAUTHENTICATED');
      expect(answer.closed).toBe(true);
      expect(answer.sentBeforeAnswer).toBeLessThan(32 * MiB);
      expect(answer.rssGrowthMiB).toBeLessThan(64);
    }
  });

  it('refuses an upload over 32 MiB with 413: by its declared length before reading, or while it streams in', async () => {
    const before = await counts();
    const declared = await offerBody(
      app.url,
      ASCIINEMA_UPLOAD_PATH,
      { ...multipartType, ...basic(memberKey) },
      32 * MiB + 1,
      { prefix: multipartHead },
    );
    expect(declared.status).toBe(413);
    expect(declared.headers['content-type']).toMatch(/^text\/plain/);
    expect(declared.text).toBe('The request body is larger than 32 MiB, the most accepted.\n');
    expect(declared.closed).toBe(true);
    expect(declared.sentBeforeAnswer).toBeLessThan(16 * MiB);

    // Chunked: no length to judge up front, so the running count stops it. The bytes go to
    // another file field, which is skipped but still counted.
    const padding = Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="padding"; filename="p.bin"\r\n\r\n`,
    );
    const streamed = await offerBody(
      app.url,
      ASCIINEMA_UPLOAD_PATH,
      { ...multipartType, ...basic(memberKey) },
      400 * MiB,
      { prefix: padding, chunked: true },
    );
    expect(streamed.status).toBe(413);
    expect(streamed.text).toBe('The upload is larger than 32 MiB, the most accepted.\n');
    expect(streamed.closed).toBe(true);
    expect(streamed.sentBeforeAnswer).toBeLessThan(48 * MiB);
    expect(streamed.rssGrowthMiB).toBeLessThan(64);
    expect(await counts()).toEqual(before);
  });

  it('refuses an event line over 4 MiB, and a file without a v2 header line over 4 MiB (read whole as v1), with 413', async () => {
    const longLine = await uploadCast(
      app,
      `${JSON.stringify({ version: 2, width: 80, height: 24 })}\n${JSON.stringify([0, 'o', 'l'.repeat(4 * MiB)])}\n`,
      { password: memberKey },
    );
    expect(longLine.status).toBe(413);
    expect(longLine.text).toBe('An asciicast line is longer than 4 MiB, the most one event may hold.\n');
    const v1 = JSON.stringify({ version: 1, width: 80, height: 24, stdout: [[0.1, 'v'.repeat(4 * MiB)]] });
    const wholeTooBig = await uploadCast(app, v1, { password: memberKey });
    expect(wholeTooBig.status).toBe(413);
    expect(wholeTooBig.text).toMatch(/read whole as asciicast v1, which may hold at most 4 MiB/);
  });

  it('streams an authenticated upload into the frame buffer in 4 MiB batches while it is still arriving', async () => {
    const before = await counts();
    const header = Buffer.from(`${JSON.stringify({ version: 2, width: 80, height: 24, title: 'big' })}\n`);
    const eventLines = (from: number, n: number) =>
      Buffer.from(
        Array.from(
          { length: n },
          (_, i) => `${JSON.stringify([(from + i) / 100, 'o', 'y'.repeat(1000)])}\n`,
        ).join(''),
      );
    const upload = streamingRequest(app.url, 'POST', ASCIINEMA_UPLOAD_PATH, {
      ...multipartType,
      ...basic(memberKey),
      'transfer-encoding': 'chunked',
    });
    await upload.write(Buffer.concat([multipartHead, header]));
    for (let i = 0; i < 6; i++) await upload.write(eventLines(i * 1024, 1024)); // ~6 MiB
    // Half the file is sent and the request is still open: the first batch is already buffered.
    await vi.waitFor(async () => expect((await counts()).chunks).toBeGreaterThan(before.chunks), {
      timeout: 10_000,
    });
    expect(upload.answered()).toBe(false);
    await upload.write(eventLines(6 * 1024, 512));
    await upload.write(multipartTail);
    upload.end();
    const answer = await upload.answer;
    expect(answer.status).toBe(201);
    const id = idOf(JSON.parse(answer.text).url);
    const chunks = await app.runtime.platform.db
      .selectFrom('recording_chunks')
      .select(['seq', sql<number>`length(data)`.as('bytes')])
      .where('recording_id', '=', id)
      .orderBy('seq')
      .execute();
    expect(chunks.length).toBeGreaterThanOrEqual(2);
    for (const chunk of chunks) expect(Number(chunk.bytes)).toBeLessThanOrEqual(4 * MiB);
    await app.settle();
    const cast = await playback(id);
    expect(cast.events).toHaveLength(6 * 1024 + 512);
    expect(cast.header).toMatchObject({ width: 80, height: 24 });
  });
});

describe('asciinema uploads', () => {
  it('stores a v2 upload as a recording that is listed, archived, audited and playable', async () => {
    const uploaded = await uploadCast(app, v2Cast(['hello ', 'world\r\n']), {
      password: memberKey,
      user: 'alice',
    });
    expect(uploaded.status).toBe(201);
    const id = idOf(uploaded.body.url);
    expect(id).not.toBe('');
    await app.settle();

    const list = await app.request('GET', `/api/orgs/${orgId}/recordings`, { token: owner.token });
    expect(list.status).toBe(200);
    const listed = JSON.stringify(list.body);
    expect(listed).toContain(id);
    expect(listed).toContain('uploaded by alice');

    const fetched = await app.request(
      'GET',
      uploaded.body.url.replace(app.runtime.platform.config.appUrl, ''),
      {
        token: memberKey,
      },
    );
    expect(fetched.status).toBe(200);
    const cast = await playback(id);
    expect(cast.header).toMatchObject({ version: 2, width: 80, height: 24 });
    expect(cast.events.map((e) => e[2]).join('')).toBe('hello world\r\n');
    // The two reads above each handed out a playback link.
    expect(await auditActions(id)).toEqual([
      'session.started',
      'session.stopped',
      'recording.archived',
      'recording.playback_issued',
      'recording.playback_issued',
    ]);
  });

  it('converts a v1 upload to v2 events at cumulative times', async () => {
    const v1 = JSON.stringify({
      version: 1,
      width: 100,
      height: 30,
      stdout: [
        [0.25, 'a'],
        [0.5, 'b'],
        [1, 'c'],
      ],
    });
    const uploaded = await uploadCast(app, v1, { password: memberKey });
    expect(uploaded.status).toBe(201);
    await app.settle();
    const cast = await playback(idOf(uploaded.body.url));
    expect(cast.header).toMatchObject({ version: 2, width: 100, height: 30 });
    expect(cast.events).toEqual([
      [0.25, 'o', 'a'],
      [0.75, 'o', 'b'],
      [1.75, 'o', 'c'],
    ]);
  });

  it('files an upload with another org’s key under that org, never under ours', async () => {
    const otherKey = await issueApiKey(app, otherOrgId, 'member');
    const uploaded = await uploadCast(app, v2Cast(['elsewhere']), { password: otherKey });
    expect(uploaded.status).toBe(201);
    const id = idOf(uploaded.body.url);
    const recording = await app.runtime.platform.db
      .selectFrom('recordings')
      .select('org_id')
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(recording.org_id).toBe(otherOrgId);
    const ours = await app.request('GET', `/api/orgs/${orgId}/recordings`, { token: owner.token });
    expect(JSON.stringify(ours.body)).not.toContain(id);
    const link = await app.request('GET', `/api/recordings/${id}/playback`, { token: memberKey });
    expect(link.status).toBe(404);
  });

  it('refuses a missing, wrong or revoked key with a plain-text 401', async () => {
    const missing = await uploadCast(app, v2Cast(['x']));
    expect(missing.status).toBe(401);
    expect(missing.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(missing.text).toMatch(/install-id/);

    const wrong = await uploadCast(app, v2Cast(['x']), { password: 'sf_live_notarealkey' });
    expect(wrong.status).toBe(401);
    expect(wrong.text).toMatch(/^Invalid API key/);

    const revoked = await issueApiKey(app, orgId, 'member');
    await app.runtime.platform.db
      .updateTable('api_keys')
      .set({ revoked_at: clock.now() })
      .where('key_hash', '=', sha256(revoked))
      .execute();
    const refused = await uploadCast(app, v2Cast(['x']), { password: revoked });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('content-type')).toMatch(/^text\/plain/);
  });

  it('applies the org’s IP allowlist to uploads: a plain-text 403 from outside it, 201 from inside', async () => {
    const fencedOrgId = (await createOrg(app, owner)).id;
    const fencedKey = await issueApiKey(app, fencedOrgId, 'member');
    await stepUp(app, owner);
    const office = '203.0.113.10';
    const saved = await app.request('PUT', `/api/orgs/${fencedOrgId}/allowlist`, {
      token: owner.token,
      body: { enabled: true, entries: [{ cidr: '203.0.113.0/24', label: 'office' }] },
      headers: from(office),
    });
    expect(saved.status).toBe(200);
    const outside = await uploadCast(app, v2Cast(['x']), {
      password: fencedKey,
      headers: from('198.51.100.7'),
    });
    expect(outside.status).toBe(403);
    expect(outside.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(outside.text).toBe('Requests from 198.51.100.7 are not allowed in this org.\n');
    const inside = await uploadCast(app, v2Cast(['x']), { password: fencedKey, headers: from(office) });
    expect(inside.status).toBe(201);
  });

  it('refuses a viewer key: uploading needs the member role', async () => {
    const viewerKey = await issueApiKey(app, orgId, 'viewer');
    const refused = await uploadCast(app, v2Cast(['x']), { password: viewerKey });
    expect(refused.status).toBe(403);
    expect(refused.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(refused.text).toBe(
      'This API key has the viewer role; uploading needs a key with the member role or higher.\n',
    );
  });

  it('tells the asciinema CLI why a viewer key is refused, as the 400 whose body it prints', async () => {
    const viewerKey = await issueApiKey(app, orgId, 'viewer');
    const refused = await uploadCast(app, v2Cast(['x']), {
      password: viewerKey,
      headers: { 'user-agent': 'asciinema/2.2.0 CPython/3.11.2 Linux/6.1.0-x86_64-with-glibc2.36' },
    });
    expect(refused.status).toBe(400);
    expect(refused.text).toBe(
      'This API key has the viewer role; uploading needs a key with the member role or higher.\n',
    );
    // An install id that is no key: the CLI would print only "Invalid or revoked install ID".
    const invalid = await uploadCast(app, v2Cast(['x']), {
      password: '0b8f7a52-3c1e-4f0a-9d55-6f2d0c9e1a77',
      headers: { 'user-agent': 'asciinema/2.2.0' },
    });
    expect(invalid.status).toBe(400);
    expect(invalid.text).toBe(
      'Invalid API key: put a valid org API key (sf_live_...) in your asciinema install-id.\n',
    );
    // Too large keeps its 413: the CLI's own words for it fit.
  });

  it('answers a plain-text 400 for a file that is not an asciicast or a missing field', async () => {
    const notCast = await uploadCast(app, 'just some text\n', { password: memberKey });
    expect(notCast.status).toBe(400);
    expect(notCast.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(notCast.text).toBe('The file is not an asciicast (v1 or v2).\n');

    const badEvent = await uploadCast(
      app,
      `${JSON.stringify({ version: 2, width: 80, height: 24 })}\n[1, "o", "a"]\n[0.5, "o", "b"]\n`,
      { password: memberKey },
    );
    expect(badEvent.status).toBe(400);
    expect(badEvent.text).toMatch(/time goes back/);

    const wrongField = await uploadCast(app, v2Cast(['x']), { password: memberKey, field: 'file' });
    expect(wrongField.status).toBe(400);
    expect(wrongField.text).toMatch(/asciicast/);
  });

  it('answers a plain-text 413 for an upload over RECORDING_MAX_BYTES and keeps no recording or staged frames', async () => {
    const before = await counts();
    const big = v2Cast(Array.from({ length: 9 * 16 }, () => 'x'.repeat(64 * 1024)));
    const refused = await uploadCast(app, big, { password: memberKey });
    expect(refused.status).toBe(413);
    expect(refused.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(refused.text).toBe('The recording is too large: a recording holds at most 8 MiB.\n');
    expect(await counts()).toEqual(before);
  });
});
