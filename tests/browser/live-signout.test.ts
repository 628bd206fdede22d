import { describe, expect, it } from 'vitest';
import { openPage, PASSWORD, signInByForm, uniqueEmail, useRig } from './harness.js';

describe('signing out from another device', { timeout: 90_000 }, () => {
  const rig = useRig();

  it('"Sign out everywhere" in B brings A’s open tab to /login within 3 s, saying why', async () => {
    const user = await rig.app.signupVerifiedAndLogin(uniqueEmail('two-devices'), PASSWORD);
    const a = await openPage(await rig.context(), '/login');
    await signInByForm(a, user.email);
    await a.getByText('This session').waitFor();
    const b = await openPage(await rig.context(), '/login');
    await signInByForm(b, user.email);
    await b.getByText('This session').waitFor();
    // A's stream is open before B acts.
    await a.waitForLoadState('networkidle').catch(() => undefined);

    const started = Date.now();
    await b.getByRole('button', { name: 'Sign out everywhere' }).click();
    await b.waitForURL('**/login**');
    await a.waitForURL('**/login?**reason=revoked**', { timeout: 3000 });
    expect(Date.now() - started).toBeLessThan(3000);
    await a.getByText('You were signed out from another device').waitFor({ timeout: 1000 });
  });

  it('revoking one session from the list ends only that one, live', async () => {
    const user = await rig.app.signupVerifiedAndLogin(uniqueEmail('revoke-one'), PASSWORD);
    const a = await openPage(await rig.context(), '/login');
    await signInByForm(a, user.email);
    const b = await openPage(await rig.context(), '/login');
    await signInByForm(b, user.email);
    const otherRow = b
      .getByRole('row')
      .filter({ hasNot: b.getByText('This session') })
      .filter({ hasText: '127.0.0.1' });
    await expect.poll(() => otherRow.count(), { timeout: 15_000 }).toBeGreaterThan(0);
    await otherRow
      .first()
      .getByRole('button', { name: /Revoke/ })
      .click();
    await a.waitForURL('**/login?**reason=revoked**', { timeout: 3000 });
    expect(b.url()).toContain('/settings/security');
  });

  it('an action in a tab whose session ended elsewhere lands on /login saying why, even before the live stream tells it', async () => {
    const user = await rig.app.signupVerifiedAndLogin(uniqueEmail('ended-mid-action'), PASSWORD);
    const context = await rig.context();
    // The tab's live streams never answer: only the action's own 401 can tell it.
    await context.route(/\/api\/(sessions|accounts\/security-events)\/stream/, () => undefined);
    const a = await openPage(context, '/login');
    await signInByForm(a, user.email);
    await a.getByText('This session').waitFor();

    const ended = await rig.app.request('POST', '/api/sessions/revoke-others', { token: user.token });
    expect(ended.status, ended.text).toBe(200);
    expect(a.url()).toContain('/settings/security');
    // Any call the page makes from here gets the 401; a load still arriving may beat the click to
    // it, and then the page is already leaving: either way it must land saying why.
    await a
      .getByRole('button', { name: 'Sign out other sessions' })
      .click({ timeout: 5000 })
      .catch((error: Error) => {
        if (!a.url().includes('/login')) throw error;
      });
    await a.waitForURL('**/login?**reason=revoked**', { timeout: 10_000 });
    await a.getByText('You were signed out from another device').waitFor();
  });
});
