import { describe, expect, it } from 'vitest';
import { checkPage, PASSWORD, signedInPage, useRig, virtualAuthenticator } from './harness.js';

describe('passkey autofill on /login', { timeout: 120_000 }, () => {
  // WebAuthn refuses an IP address as the RP ID, so this rig serves the console on localhost.
  const rig = useRig({ host: 'localhost' });

  it('asks for a challenge only when the Email field is focused, then signs in with the passkey the browser offers there', async () => {
    const { page } = await signedInPage(rig, 'autofill');
    await virtualAuthenticator(page);
    await page.getByLabel('Passkey name').fill('Laptop');
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    const dialog = page.getByRole('dialog', { name: 'Confirm it’s you' });
    await dialog.waitFor();
    await dialog.getByLabel('Password').fill(PASSWORD);
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    await page
      .getByRole('region', { name: 'Passkeys' })
      .getByRole('button', { name: 'Rename Laptop' })
      .waitFor();
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.waitForURL('**/login**');

    const optionsCalls: string[] = [];
    page.on('request', (request) => {
      if (request.url().endsWith('/api/login/passkey/options')) optionsCalls.push(request.method());
    });
    // Page views alone spend no challenge and no edge-throttle count.
    await page.reload();
    await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
    await page.waitForLoadState('networkidle');
    expect(optionsCalls).toEqual([]);
    expect(await page.getByLabel('Email').getAttribute('autocomplete')).toBe('username webauthn');
    await checkPage(page, 'login-passkey-autofill');

    // The virtual authenticator answers the conditional request as a person picking the offered passkey.
    await page.getByLabel('Email').focus();
    await page.waitForURL('**/settings/security');
    expect(optionsCalls).toEqual(['POST']);
    const current = await page.evaluate(async () => (await fetch('/api/sessions/current')).json());
    expect(current.user.email).toContain('autofill');
  });

  it('a pending autofill offer does not stand in the way of the passkey button or the password', async () => {
    const { user, page } = await signedInPage(rig, 'both');
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.waitForURL('**/login**');
    // No authenticator holds a passkey for this user: the autofill offer stays pending.
    await page.getByLabel('Email').focus();
    await page.getByLabel('Email').fill(user.email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL('**/settings/security');
    await expect.poll(() => page.getByRole('alert').count()).toBe(0);
  });
});
