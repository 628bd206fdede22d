import { describe, expect, it } from 'vitest';
import type { TestApp } from '../helpers/app.js';
import { checkPage, openPage, PASSWORD, signInByForm, uniqueEmail, useRig } from './harness.js';

const FIREFOX_LINUX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
const SAFARI_IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';

/** An org owned by a fresh user, with a second user who joined it by invitation (through the API). */
async function orgWithMember(app: TestApp, name: string) {
  const owner = await app.signupVerifiedAndLogin(uniqueEmail('owner'), PASSWORD);
  const slug = `${name.toLowerCase()}-${Date.now()}`;
  const org = await app.request('POST', '/api/orgs', { token: owner.token, body: { name, slug } });
  const member = await app.signupVerifiedAndLogin(uniqueEmail('member'), PASSWORD);
  await app.request('POST', `/api/orgs/${org.body.id}/invitations`, {
    token: owner.token,
    body: { email: member.email, role: 'member' },
  });
  await app.settle();
  const accepted = await app.request('POST', '/api/orgs/invitations/accept', {
    token: member.token,
    body: { token: app.tokenFromMail(member.email, 'invitation') },
  });
  expect(accepted.status).toBe(200);
  return {
    owner,
    member: { ...member, token: accepted.body.token as string },
    orgId: org.body.id as string,
    slug,
  };
}

describe('members leave an organization and admins filter its sessions', { timeout: 120_000 }, () => {
  const rig = useRig();

  it('a member leaves from the members page; the last owner is refused in words and stays', async () => {
    const { owner, member, orgId, slug } = await orgWithMember(rig.app, 'Leavers');

    const page = await openPage(await rig.context(), '/login');
    await signInByForm(page, member.email);
    await page.goto(`/orgs/${slug}/members`);
    await page.getByRole('heading', { name: 'Leave this organization' }).waitFor();
    await page.getByRole('button', { name: 'Leave organization' }).click();
    await page.getByRole('button', { name: 'Yes, leave Leavers' }).click();
    await page.waitForURL('**/settings/security?left=1');
    await page.getByText('You left the organization.').waitFor();
    expect(await page.getByRole('combobox', { name: 'Organization' }).textContent()).not.toContain('Leavers');
    const members = await rig.app.request('GET', `/api/orgs/${orgId}/members`, { token: owner.token });
    expect(members.body.members.map((m: { userId: string }) => m.userId)).toEqual([owner.userId]);

    const ownerPage = await openPage(await rig.context(), '/login');
    await signInByForm(ownerPage, owner.email);
    await ownerPage.goto(`/orgs/${slug}/members`);
    await ownerPage.getByRole('button', { name: 'Leave organization' }).click();
    await ownerPage.getByRole('button', { name: 'Yes, leave Leavers' }).click();
    await ownerPage.getByText('You are the last owner of Leavers, so you cannot leave it.').waitFor();
    expect(ownerPage.url()).toContain(`/orgs/${slug}/members`);
    await checkPage(ownerPage, 'org-leave-refused');
    const still = await rig.app.request('GET', `/api/orgs/${orgId}/members`, { token: owner.token });
    expect(still.status).toBe(200);
  });

  it('filters the org’s sessions by device and by country, and explains a bad country code', async () => {
    const { owner, member, orgId, slug } = await orgWithMember(rig.app, 'Filters');
    // Two more sessions of the member, on two other devices, that act in the org.
    const onDevice = async (userAgent: string) => {
      const login = await rig.app.request('POST', '/api/login', {
        body: { email: member.email, password: PASSWORD },
        headers: { 'user-agent': userAgent },
      });
      await rig.app.request('GET', `/api/orgs/${orgId}/members`, {
        token: login.body.token,
        headers: { 'user-agent': userAgent },
      });
      return login.body.session.id as string;
    };
    await onDevice(FIREFOX_LINUX);
    const iphone = await onDevice(SAFARI_IPHONE);
    // The local runtime cannot place loopback addresses; give one session a country as geolocation would.
    await rig.app.runtime.platform.db
      .updateTable('sessions')
      .set({ country: 'DE' })
      .where('id', '=', iphone)
      .execute();

    const page = await openPage(await rig.context(), '/login');
    await signInByForm(page, owner.email);
    await page.goto(`/orgs/${slug}/sessions`);
    const rows = page.locator('table tbody tr');
    await expect.poll(() => rows.count()).toBeGreaterThanOrEqual(2);
    const device = page.getByLabel('Device');
    const firefoxOption = device.locator('option', { hasText: 'Firefox on Linux' });
    await expect.poll(() => firefoxOption.count()).toBe(1);
    await device.selectOption({ label: (await firefoxOption.textContent())! });
    await expect.poll(() => rows.count()).toBe(1);
    await page.getByRole('cell', { name: 'Firefox on Linux' }).waitFor();
    expect(await page.getByRole('cell', { name: /iPhone|iOS/ }).count()).toBe(0);
    await checkPage(page, 'org-sessions-filtered');

    await device.selectOption('');
    await page.getByLabel('Country').fill('Germany');
    await page.getByRole('button', { name: 'Filter by country' }).click();
    await page.getByText('Country must be an ISO 3166-1 alpha-2 country code').waitFor();
    expect(await page.getByLabel('Country').getAttribute('aria-invalid')).toBe('true');

    await page.getByLabel('Country').fill('de');
    await page.getByRole('button', { name: 'Filter by country' }).click();
    await expect.poll(() => rows.count()).toBe(1);
    await page.getByRole('cell', { name: 'DE', exact: true }).waitFor();

    await page.getByLabel('Country').fill('FR');
    await page.getByRole('button', { name: 'Filter by country' }).click();
    await page.getByText('No sessions match.').waitFor();
  });
});
