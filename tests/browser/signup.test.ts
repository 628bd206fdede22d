import { describe, expect, it } from 'vitest';
import { checkPage, openPage, PASSWORD, signInByForm, uniqueEmail, useRig } from './harness.js';

describe('a new user in the console', { timeout: 90_000 }, () => {
  const rig = useRig();

  it('signs up, follows the link in /dev/mailbox, signs in and sees "This session"', async () => {
    const context = await rig.context();
    const email = uniqueEmail('newcomer');
    const page = await openPage(context, '/signup');
    await checkPage(page, 'signup');
    await page.getByLabel('Name').fill('Ada Newcomer');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByText(`We sent a link to ${email}`).waitFor();

    await rig.app.settle();
    await page.getByRole('link', { name: 'local mailbox' }).click();
    await page.waitForURL('**/dev/mailbox');
    const link = page.getByRole('link', { name: /Open link/ }).first();
    await link.waitFor();
    await checkPage(page, 'mailbox');
    await link.click();
    await page.waitForURL('**/verify-email?token=*');
    await checkPage(page, 'verify-email');
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByText('Your email address is verified.').waitFor();

    await page.getByRole('link', { name: 'Sign in' }).click();
    await page.waitForURL('**/login');
    await checkPage(page, 'login');
    await signInByForm(page, email);
    const current = page.getByRole('row').filter({ hasText: 'This session' });
    await current.waitFor();
    expect(await current.textContent()).toContain('127.0.0.1');
    expect(await current.textContent()).toMatch(/Chrome on Linux/);
    await checkPage(page, 'security');
    // Nothing token-shaped in web storage: the session lives only in the HttpOnly cookie.
    const stored = await page.evaluate(() => JSON.stringify({ ...localStorage, ...sessionStorage }));
    expect(stored).toBe('{}');
    expect(await page.evaluate(() => document.cookie)).not.toContain('sf_session');
    const cookies = await context.cookies();
    expect(cookies.find((c) => c.name === '__Host-sf_session')?.httpOnly).toBe(true);
  });

  it('shows the API’s words for a wrong password and for an unverified account', async () => {
    const context = await rig.context();
    const page = await openPage(context, '/login');
    await page.getByLabel('Email').fill(uniqueEmail('nobody'));
    await page.getByLabel('Password').fill('not the password at all');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('alert').getByText('The email or password is wrong.').waitFor();
    await checkPage(page, 'login-error');

    const unverified = uniqueEmail('unverified');
    await rig.app.request('POST', '/api/accounts/signup', {
      body: { email: unverified, password: PASSWORD, name: 'U' },
    });
    await page.getByLabel('Email').fill(unverified);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('alert').getByText('Confirm your email address first').waitFor();
  });

  it('sends a signed-out visit to /login and back to the page after signing in', async () => {
    const user = await rig.app.signupVerifiedAndLogin(uniqueEmail('returning'), PASSWORD);
    const context = await rig.context();
    const page = await openPage(context, '/settings/sessions');
    await page.waitForURL('**/login?next=*');
    await page.getByLabel('Email').fill(user.email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL('**/settings/sessions');
    await page.getByText('This session').waitFor();
  });

  it('resets a forgotten password from the mail link', async () => {
    const user = await rig.app.signupVerifiedAndLogin(uniqueEmail('forgetful'), PASSWORD);
    const context = await rig.context();
    const page = await openPage(context, '/reset-password');
    await page.getByLabel('Email').fill(user.email);
    await page.getByRole('button', { name: 'Send reset link' }).click();
    await page.getByText(`If an account exists for ${user.email}`).waitFor();
    await rig.app.settle();
    const token = rig.app.tokenFromMail(user.email, 'password-reset');
    await page.goto(`/reset-password?token=${token}`);
    await checkPage(page, 'reset-password');
    await page.getByLabel('New password').fill('a brand new passphrase 77');
    await page.getByRole('button', { name: 'Set new password' }).click();
    await page.waitForURL('**/login?reason=reset');
    await signInByForm(page, user.email, 'a brand new passphrase 77');
  });
});
