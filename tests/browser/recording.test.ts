import { describe, expect, it } from 'vitest';
import { issueApiKey } from '../helpers/keys.js';
import { ndjson, postFrames } from '../helpers/recordings.js';
import { checkPage, openPage, PASSWORD, signInByForm, uniqueEmail, useRig } from './harness.js';

describe('watching a recording in the console', { timeout: 90_000 }, () => {
  const rig = useRig();

  it('lists the archived recording and plays it from the signed URL, showing its text', async () => {
    const owner = await rig.app.signupVerifiedAndLogin(uniqueEmail('watcher'), PASSWORD);
    const slug = `rec-${Date.now()}`;
    const org = await rig.app.request('POST', '/api/orgs', {
      token: owner.token,
      body: { name: 'Rec', slug },
    });
    const key = await issueApiKey(rig.app, org.body.id, 'member');
    const started = await rig.app.request('POST', `/api/orgs/${org.body.id}/recordings`, {
      token: key,
      body: { title: 'deploy on web-1', width: 80, height: 24 },
    });
    expect(started.status).toBe(201);
    const id: string = started.body.id;
    const frames = await postFrames(
      rig.app,
      key,
      id,
      0,
      ndjson([
        [0.1, 'o', '$ echo hello\r\n'],
        [0.3, 'o', 'hello from the console player\r\n'],
      ]),
    );
    expect(frames.status).toBe(202);
    expect((await rig.app.request('POST', `/api/recordings/${id}/stop`, { token: key })).status).toBe(202);
    await rig.app.settle();

    const page = await openPage(await rig.context(), '/login');
    await signInByForm(page, owner.email);
    await page.goto(`/orgs/${slug}/recordings`);
    const scriptsBefore = await page.evaluate(() =>
      performance.getEntriesByType('resource').map((e) => e.name),
    );
    await checkPage(page, 'org-recordings');
    await page.getByRole('link', { name: 'deploy on web-1' }).click();
    await page.waitForURL(`**/orgs/${slug}/recordings/${id}`);
    await page.getByTestId('player').getByText('hello from the console player').waitFor({ timeout: 10_000 });
    await checkPage(page, 'recording-player');
    // The player's code arrived only with this page.
    const scriptsAfter = await page.evaluate(() =>
      performance.getEntriesByType('resource').map((e) => e.name),
    );
    const loadedHere = scriptsAfter.filter((name) => !scriptsBefore.includes(name));
    expect(loadedHere.some((name) => /\/assets\/.*\.js$/.test(name))).toBe(true);
    expect(scriptsBefore.some((name) => /\/assets\/player-/.test(name))).toBe(false);
  });
});
