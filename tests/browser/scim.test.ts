import { describe, expect, it } from 'vitest';
import { checkPage, openPage, PASSWORD, signInByForm, uniqueEmail, useRig } from './harness.js';

describe('SCIM tokens in the console', { timeout: 120_000 }, () => {
  const rig = useRig();

  it('an owner creates a SCIM token after a step-up, sees it once, and revokes it', async () => {
    const owner = await rig.app.signupVerifiedAndLogin(uniqueEmail('scimowner'), PASSWORD);
    const slug = `scim-${Date.now()}`;
    await rig.app.request('POST', '/api/orgs', { token: owner.token, body: { name: 'Scim', slug } });
    const page = await openPage(await rig.context(), '/login');
    await signInByForm(page, owner.email);
    await page.goto(`/orgs/${slug}/scim`);
    await page.getByTestId('scim-base-url').waitFor();
    expect(await page.getByTestId('scim-base-url').textContent()).toMatch(/\/api\/scim\/v2$/);
    await page.getByLabel('Name', { exact: true }).fill('Okta');
    await page.getByRole('button', { name: 'Create SCIM token' }).click();
    const dialog = page.getByRole('dialog', { name: 'Confirm it’s you' });
    await dialog.getByLabel('Password').fill(PASSWORD);
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    const token = (await page.getByTestId('new-scim-token').textContent())?.trim() ?? '';
    expect(token).toMatch(/^sf_scim_/);
    await checkPage(page, 'org-scim');
    const used = await rig.app.request('GET', '/api/scim/v2/Users', { token });
    expect(used.status).toBe(200);
    await page.reload();
    await page.getByRole('cell', { name: 'Okta', exact: true }).waitFor();
    expect(await page.getByTestId('new-scim-token').count()).toBe(0);
    expect(await page.content()).not.toContain(token);
    await page.getByRole('button', { name: 'Revoke SCIM token Okta' }).click();
    await page.getByText('No SCIM tokens yet.').waitFor();
    expect((await rig.app.request('GET', '/api/scim/v2/Users', { token })).status).toBe(401);
  });
});
