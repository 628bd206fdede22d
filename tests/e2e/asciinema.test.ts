import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../shared/crypto/tokens.js';
import { FakeClock } from '../../shared/time/clock.js';
import { from, stepUp } from '../helpers/allowlist.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { uploadCast, v2Cast } from '../helpers/asciinema.js';
import { issueApiKey } from '../helpers/keys.js';
import { createOrg, newUser, orgTestEnv, type TestUser } from '../helpers/orgs.js';
import { parseAsciicast, rawGet } from '../helpers/recordings.js';

const MiB = 1024 * 1024;
const clock = new FakeClock('2026-04-01T10:00:00Z');
let app: TestApp;
let owner: TestUser;
let orgId: string;
let otherOrgId: string;
let memberKey: string;

beforeAll(async () => {
  app = await startTestApp({ clock, env: { ...orgTestEnv, RECORDING_MAX_BYTES: String(MiB) } });
  owner = await newUser(app, 'owner');
  const outsider = await newUser(app, 'outsider');
  orgId = (await createOrg(app, owner)).id;
  otherOrgId = (await createOrg(app, outsider)).id;
  memberKey = await issueApiKey(app, orgId, 'member');
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

  it('answers a plain-text 413 for an upload over RECORDING_MAX_BYTES and keeps no recording', async () => {
    const before = (await app.runtime.platform.db.selectFrom('recordings').select('id').execute()).length;
    const big = v2Cast(['x'.repeat(MiB + 10)]);
    const refused = await uploadCast(app, big, { password: memberKey });
    expect(refused.status).toBe(413);
    expect(refused.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(refused.text).toMatch(/too large/);
    const after = (await app.runtime.platform.db.selectFrom('recordings').select('id').execute()).length;
    expect(after).toBe(before);
  });
});
