import { describe, expect, it } from 'vitest';
import { checkPage, openPage, PASSWORD, signInByForm, uniqueEmail, useRig } from './harness.js';

describe('administering an organization in the console', { timeout: 120_000 }, () => {
  const rig = useRig();

  it('creates an org, invites someone who accepts from the mail link in another browser, issues a key once', async () => {
    const owner = await rig.app.signupVerifiedAndLogin(uniqueEmail('owner'), PASSWORD);
    const page = await openPage(await rig.context(), '/login');
    await signInByForm(page, owner.email);
    const slug = `acme-${Date.now()}`;
    await page.getByRole('combobox', { name: 'Organization' }).selectOption('+');
    await page.waitForURL('**/orgs/new');
    // The org pages are a chunk of their own, fetched on this first visit: on a machine busy with
    // the whole suite that has taken longer than an action's 15 s.
    await page.getByRole('heading', { name: 'New organization' }).waitFor({ timeout: 60_000 });
    await page.getByLabel('Name', { exact: true }).fill('Acme');
    await page.getByLabel('Short name').fill(slug);
    await page.getByRole('button', { name: 'Create organization' }).click();
    await page.waitForURL(`**/orgs/${slug}/members`);
    await page.getByRole('cell', { name: owner.email, exact: true }).waitFor();

    const invitee = await rig.app.signupVerifiedAndLogin(uniqueEmail('invitee'), PASSWORD);
    await page.getByLabel('Email').fill(invitee.email);
    await page.getByLabel('Role', { exact: true }).selectOption('member');
    await page.getByRole('button', { name: 'Invite' }).click();
    await page.getByText(`Invitation sent to ${invitee.email}.`).waitFor();
    await checkPage(page, 'org-members');

    await rig.app.settle();
    const mail = rig.app
      .mails()
      .filter((m) => m.to === invitee.email && m.action.type === 'invitation')
      .at(-1)!;
    const link = new URL(mail.action.url);
    const other = await openPage(await rig.context(), `${link.pathname}${link.search}`);
    await checkPage(other, 'invitation');
    await other.getByRole('link', { name: 'Sign in' }).click();
    await other.waitForURL('**/login?next=*');
    await other.getByLabel('Email').fill(invitee.email);
    await other.getByLabel('Password').fill(PASSWORD);
    await other.getByRole('button', { name: 'Sign in', exact: true }).click();
    await other.waitForURL('**/invitations/accept?token=*');
    await other.getByRole('button', { name: 'Accept invitation' }).click();
    await other.getByText('You joined the organization.').waitFor();
    expect(await other.getByRole('combobox', { name: 'Organization' }).textContent()).toContain(
      'Acme (member)',
    );
    await page.reload();
    await page.getByRole('cell', { name: invitee.email, exact: true }).waitFor();

    await page.getByRole('link', { name: 'API keys' }).click();
    await page.waitForURL(`**/orgs/${slug}/keys`);
    await page.getByLabel('Name', { exact: true }).fill('deploy bot');
    await page.getByRole('button', { name: 'Create API key' }).click();
    const key = (await page.getByTestId('new-key').textContent())!.trim();
    expect(key).toMatch(/^sf_live_/);
    await page.getByText('it is shown only once').waitFor();
    await checkPage(page, 'org-keys');
    const verified = await rig.app.request('POST', '/api/keys/verify', { body: { key } });
    expect(verified.body.valid).toBe(true);
    await page.reload();
    await page.getByRole('cell', { name: 'deploy bot', exact: true }).waitFor();
    expect(await page.getByTestId('new-key').count()).toBe(0);
    expect(await page.content()).not.toContain(key);
  });

  it('marks a bad allowlist entry by index, explains a refused lockout, saves the policy; audit verifies the chain', async () => {
    const owner = await rig.app.signupVerifiedAndLogin(uniqueEmail('netadmin'), PASSWORD);
    const slug = `net-${Date.now()}`;
    await rig.app.request('POST', '/api/orgs', { token: owner.token, body: { name: 'Net', slug } });
    const page = await openPage(await rig.context(), '/login');
    await signInByForm(page, owner.email);
    await page.goto(`/orgs/${slug}/allowlist`);
    await expect
      .poll(() => page.getByTestId('your-address').textContent(), { timeout: 15_000 })
      .toBe('127.0.0.1');
    await page.getByRole('button', { name: 'Add entry' }).click();
    await page.getByLabel('Address or range 1').fill('10.0.0.0/8');
    await page.getByRole('button', { name: 'Add entry' }).click();
    await page.getByLabel('Address or range 2').fill('not-an-address');
    await page.getByLabel(/Enforce the allowlist/).check();
    await page.getByRole('button', { name: 'Save allowlist' }).click();
    const dialog = page.getByRole('dialog', { name: 'Confirm it’s you' });
    await dialog.waitFor();
    await dialog.getByLabel('Password').fill(PASSWORD);
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    const issue = page.locator('#cidr-1-issue');
    await issue.waitFor();
    expect(await page.getByLabel('Address or range 2').getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('#cidr-0-issue').count()).toBe(0);

    await page.getByRole('button', { name: 'Remove entry 2' }).click();
    await page.getByRole('button', { name: 'Save allowlist' }).click();
    await page.getByText('enforcing it would lock you out').waitFor();
    await checkPage(page, 'org-allowlist');

    await page.getByRole('link', { name: 'Policy' }).click();
    await page.getByLabel('Idle timeout (minutes)').fill('45');
    await page.getByRole('button', { name: 'Save policy' }).click();
    await page.getByText('Idle sessions now end after 45 minutes.').waitFor();
    await checkPage(page, 'org-policy');

    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.getByRole('button', { name: 'Verify chain' }).click();
    await page.getByText(/Chain valid: \d+ events checked/).waitFor();
    await checkPage(page, 'org-audit');

    await page.getByRole('link', { name: 'Sessions' }).click();
    await page.waitForURL(`**/orgs/${slug}/sessions`);
    await page.getByRole('heading', { name: 'Sessions in this organization' }).waitFor();
    await checkPage(page, 'org-sessions');
  });
});
