import { describe, expect, it } from 'vitest';
import { openPage, PASSWORD, signInByForm, uniqueEmail, useRig } from './harness.js';

describe('the console’s first load', { timeout: 120_000 }, () => {
  const rig = useRig();

  it('asks who is signed in once, from the HTML’s preload, in one script (no QR encoder, no passkey registration); the QR encoder loads when used', async () => {
    const user = await rig.app.signupVerifiedAndLogin(uniqueEmail('first'), PASSWORD);
    const context = await rig.context();
    const login = await openPage(context, '/login');
    await signInByForm(login, user.email);
    await login.close();

    const page = await context.newPage();
    const checks: string[] = [];
    const scripts: string[] = [];
    const warnings: string[] = [];
    page.on('console', (m) => warnings.push(m.text()));
    page.on('request', (request) => {
      if (request.url().endsWith('/api/sessions/current')) checks.push(request.url());
      if (request.resourceType() === 'script') scripts.push(new URL(request.url()).pathname);
    });
    await page.goto('/settings/security');
    await page.getByRole('heading', { level: 1, name: 'Security', exact: true }).waitFor();
    await page.waitForLoadState('networkidle');
    expect(checks).toHaveLength(1);
    expect(scripts).toHaveLength(1);

    await page.getByRole('button', { name: 'Set up authenticator app' }).click();
    const dialog = page.getByRole('dialog', { name: 'Confirm it’s you' });
    await dialog.waitFor();
    await dialog.getByLabel('Password').fill(PASSWORD);
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    await page.getByRole('img', { name: /QR code/i }).waitFor();
    await page.waitForLoadState('networkidle');
    expect(scripts.length).toBe(2);
    expect(warnings.filter((w) => /preload/i.test(w))).toEqual([]);
  });
});
