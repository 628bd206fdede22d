import { generate } from 'otplib';
import { describe, expect, it } from 'vitest';
import { checkPage, openPage, PASSWORD, signedInPage, signInByForm, uniqueEmail, useRig } from './harness.js';

const totp = (secret: string) => generate({ secret, epoch: Math.floor(Date.now() / 1000) });

describe('two-factor set-up and step-up in the console', { timeout: 90_000 }, () => {
  const rig = useRig();

  it('asks for the password in a step-up dialog and then finishes the action it interrupted', async () => {
    const { page } = await signedInPage(rig, 'stepper');
    await page.getByLabel('Current password').fill(PASSWORD);
    await page.getByLabel('New password').fill('another long passphrase 9');
    await page.getByRole('button', { name: 'Change password' }).click();
    const dialog = page.getByRole('dialog', { name: 'Confirm it’s you' });
    await dialog.waitFor();
    await checkPage(page, 'step-up');
    await dialog.getByLabel('Password').fill('not my password at all');
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    await dialog.getByRole('alert').waitFor();
    await dialog.getByLabel('Password').fill(PASSWORD);
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    await page.getByText('Password changed.').waitFor();
    expect(await dialog.isVisible()).toBe(false);
    // The step-up swapped the session token; the live stream must not mistake that for a sign-out.
    await page.waitForTimeout(2500);
    expect(page.url()).toContain('/settings/security');
  });

  it('sets up an authenticator app from the QR page, shows backup codes once, and asks for a code at sign-in', async () => {
    const user = await rig.app.signupVerifiedAndLogin(uniqueEmail('mfa'), PASSWORD);
    const context = await rig.context();
    const page = await openPage(context, '/login');
    await signInByForm(page, user.email);
    await page.getByRole('button', { name: 'Set up authenticator app' }).click();
    const dialog = page.getByRole('dialog', { name: 'Confirm it’s you' });
    const secretOrDialog = await Promise.race([
      page
        .getByTestId('totp-secret')
        .waitFor()
        .then(() => 'secret'),
      dialog.waitFor().then(() => 'dialog'),
    ]);
    if (secretOrDialog === 'dialog') {
      // Enrolment may need a fresh step-up: the dialog covers it like any other action.
      await dialog.getByLabel('Password').fill(PASSWORD);
      await dialog.getByRole('button', { name: 'Confirm' }).click();
    }
    const secret = (await page.getByTestId('totp-secret').textContent())!.trim();
    expect(secret).toMatch(/^[A-Z2-7]{16,}$/);
    const qr = page.getByRole('img', { name: /QR code/ });
    expect(await qr.getAttribute('src')).toMatch(/^data:image\/svg\+xml/);
    await checkPage(page, 'mfa-setup');
    await page.getByLabel('Code').fill(await totp(secret));
    await page.getByRole('button', { name: 'Confirm' }).click();
    const codes = page.locator('.codes code');
    await codes.first().waitFor();
    expect(await codes.count()).toBe(10);
    const backup = (await codes.nth(0).textContent())!.trim();
    await page.getByText('They are shown only now').waitFor();
    await page.getByText('On', { exact: true }).waitFor();
    await checkPage(page, 'backup-codes');

    // Regenerating needs step-up: with two-factor on, the dialog takes a code (a backup code here).
    // When enrolment itself asked for a step-up, the session is still within its sudo window.
    await page.getByRole('button', { name: 'Regenerate backup codes' }).click();
    const changed = async () => (await codes.nth(0).textContent())?.trim() !== backup;
    await expect
      .poll(async () => (await dialog.isVisible()) || (await changed()), { timeout: 15_000 })
      .toBe(true);
    if (secretOrDialog === 'secret') {
      await dialog.getByRole('button', { name: 'Use a code instead' }).click();
      await dialog.getByLabel('Code').fill(backup);
      await dialog.getByRole('button', { name: 'Confirm' }).click();
    }
    await expect.poll(changed, { timeout: 15_000 }).toBe(true);
    const regenerated = (await codes.nth(1).textContent())!.trim();

    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.waitForURL('**/login');
    await page.getByLabel('Email').fill(user.email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'Two-factor authentication' }).waitFor();
    await checkPage(page, 'login-mfa');
    // One of the regenerated backup codes (the authenticator's current code was spent on enrolment).
    await page.getByLabel('Code').fill(regenerated);
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL('**/settings/security');
    await page.getByText('This session').waitFor();
  });
});
