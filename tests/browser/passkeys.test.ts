import { describe, expect, it } from 'vitest';
import { checkPage, PASSWORD, signedInPage, useRig, virtualAuthenticator } from './harness.js';

describe('passkeys in the console', { timeout: 120_000 }, () => {
  // WebAuthn refuses an IP address as the RP ID, so this rig serves the console on localhost.
  const rig = useRig({ host: 'localhost' });

  it('adds a passkey, signs out, signs in with it, renames it and steps up with it to remove it', async () => {
    const { page } = await signedInPage(rig, 'passkey');
    const { cdp, authenticatorId } = await virtualAuthenticator(page);

    await page.getByLabel('Passkey name').fill('Laptop');
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    // Registering needs a step-up: the dialog asks for the password, then the action goes on.
    const dialog = page.getByRole('dialog', { name: 'Confirm it’s you' });
    await dialog.waitFor();
    await dialog.getByLabel('Password').fill(PASSWORD);
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    const passkeys = page.getByRole('region', { name: 'Passkeys' });
    // The list's own row (the name field's hint also says "Laptop").
    await passkeys.getByRole('button', { name: 'Rename Laptop' }).waitFor();
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    expect(credentials).toHaveLength(1);
    expect(credentials[0]?.isResidentCredential).toBe(true);
    await checkPage(page, 'passkeys');

    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.waitForURL('**/login**');
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await page.waitForURL('**/settings/security');

    await passkeys.getByRole('button', { name: 'Rename Laptop' }).click();
    await passkeys.getByLabel('New name for Laptop').fill('Work laptop');
    await passkeys.getByRole('button', { name: 'Save name' }).click();
    await passkeys.getByText('Work laptop').waitFor();

    await passkeys.getByRole('button', { name: 'Remove Work laptop' }).click();
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Use a passkey' }).click();
    await passkeys.getByText('No passkeys yet.').waitFor();
    expect(await dialog.isVisible()).toBe(false);
  });
});
