import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeEnvelope } from '../../shared/bus/envelope.js';
import { schedules, subscriptions } from '../../shared/bus/topics.js';
import { LAST_FRAME_TOUCH_INTERVAL_MS } from '../../shared/recordings/lifecycle.js';
import { FakeClock, HOUR_MS, MINUTE_MS } from '../../shared/time/clock.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createOrg, newUser, orgTestEnv, type TestUser } from '../helpers/orgs.js';
import { ndjson, parseAsciicast, postFrames, rawGet } from '../helpers/recordings.js';

/** The shortest allowed, and inside the 30 idle minutes a session of a non-enterprise org gets. */
const IDLE_MINUTES = 10;
const clock = new FakeClock('2026-05-04T08:00:00Z');
let app: TestApp;
let owner: TestUser;
let orgId: string;

beforeAll(async () => {
  app = await startTestApp({
    clock,
    env: { ...orgTestEnv, RECORDING_IDLE_STOP_MINUTES: String(IDLE_MINUTES) },
  });
  owner = await newUser(app, 'owner');
  orgId = (await createOrg(app, owner)).id;
}, 180_000);
afterAll(() => app?.stop());

/** One tick of the hourly schedule, published on the local bus as the runtime's scheduler does. */
async function sweepTick() {
  const p = app.runtime.platform;
  await p.publisher.publish('recordings-sweep', makeEnvelope('recordings-sweep', {}, p.clock.now()));
  await app.settle();
}

async function start(title: string): Promise<string> {
  const res = await app.request('POST', `/api/orgs/${orgId}/recordings`, {
    token: owner.token,
    body: { title, width: 80, height: 24 },
  });
  return res.body.id;
}

async function listed(id: string) {
  const list = await app.request('GET', `/api/orgs/${orgId}/recordings`, { token: owner.token });
  return list.body.recordings.find((r: { id: string }) => r.id === id);
}

async function stopAudit(id: string) {
  const rows = await app.request('GET', `/api/orgs/${orgId}/audit?action=session.stopped`, {
    token: owner.token,
  });
  return rows.body.events.filter((e: { targetId: string }) => e.targetId === id);
}

describe('the hourly recordings sweep', () => {
  it('runs every hour on the archive unit', () => {
    expect(schedules.find((s) => s.topic === 'recordings-sweep')).toMatchObject({ everyMs: HOUR_MS });
    expect(subscriptions.filter((s) => s.topic === 'recordings-sweep')).toEqual([
      { topic: 'recordings-sweep', unit: 'archive' },
    ]);
  });

  it('stops a recording whose client went quiet, audits it as idle, and archives every frame it got', async () => {
    const quiet = await start('client died');
    const busy = await start('still typing');
    expect((await postFrames(app, owner.token, quiet, 0, ndjson([[0.5, 'o', '$ make\r\n']]))).status).toBe(
      202,
    );
    expect((await postFrames(app, owner.token, busy, 0, ndjson([[0.5, 'o', 'a']]))).status).toBe(202);
    const lastFrameAt = clock.now();

    // The busy one keeps sending; the quiet one never sends again.
    for (let minute = 4; minute <= IDLE_MINUTES + 6; minute += 4) {
      clock.advance(4 * MINUTE_MS);
      await postFrames(app, owner.token, busy, minute, ndjson([[minute, 'o', 'more']]));
      await sweepTick();
    }
    expect(clock.now().getTime() - lastFrameAt.getTime()).toBeGreaterThanOrEqual(
      IDLE_MINUTES * MINUTE_MS + LAST_FRAME_TOUCH_INTERVAL_MS,
    );

    expect(await listed(quiet)).toMatchObject({ status: 'archived', sha256: expect.any(String) });
    expect(await listed(busy)).toMatchObject({ status: 'recording' });
    expect(await stopAudit(busy)).toEqual([]);
    const [stop] = await stopAudit(quiet);
    expect(stop).toMatchObject({
      actorType: 'system',
      actorId: null,
      metadata: { reason: 'idle', lastActivityAt: lastFrameAt.toISOString() },
    });

    const playback = await app.request('GET', `/api/recordings/${quiet}/playback`, { token: owner.token });
    const url = new URL(playback.body.url);
    const served = await rawGet(app, `${url.pathname}${url.search}`);
    expect(parseAsciicast(served.body).events).toEqual([[0.5, 'o', '$ make\r\n']]);

    const late = await postFrames(app, owner.token, quiet, 1, ndjson([[60, 'o', 'back']]));
    expect(late.status).toBe(409);
    const buffered = await app.runtime.platform.db
      .selectFrom('recording_chunks')
      .select('seq')
      .where('recording_id', '=', quiet)
      .execute();
    expect(buffered).toEqual([]);
  });

  it('leaves a recording that is still recording alone until it has been quiet for the whole setting', async () => {
    const id = await start('no frames yet');
    clock.advance(IDLE_MINUTES * MINUTE_MS);
    await sweepTick();
    expect(await listed(id)).toMatchObject({ status: 'recording' });

    clock.advance(LAST_FRAME_TOUCH_INTERVAL_MS);
    await sweepTick();
    expect(await listed(id)).toMatchObject({ status: 'archived' });
  });
});
