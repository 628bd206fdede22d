import { generate } from 'otplib';
import type { BrowserContext, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  checkPage,
  openPage,
  PASSWORD,
  signInByForm,
  uniqueEmail,
  useRig,
  virtualAuthenticator,
} from './harness.js';

// Real public addresses and where the bundled DB-IP Lite database puts them (DB-IP names the
// German one's city "Berlin (Charlottenburg-Wilmersdorf)"); the runtime trusts
// one proxy hop, so each browser profile's X-Forwarded-For is its address.
const US = '8.8.8.8'; // Google Public DNS → Mountain View, United States
const US_TOO = '8.8.4.4';
const DE = '85.214.132.117'; // Strato AG → Berlin (a district), Germany

describe('security signals in the console', { timeout: 120_000 }, () => {
  const rig = useRig({ env: { TRUSTED_PROXY_HOPS: '1' } });

  /** A fresh browser profile whose requests come from `ip`. */
  async function from(ip: string): Promise<BrowserContext> {
    const context = await rig.context();
    await context.setExtraHTTPHeaders({ 'x-forwarded-for': ip });
    return context;
  }

  async function signedInFrom(ip: string, email: string): Promise<Page> {
    const page = await openPage(await from(ip), '/login');
    await signInByForm(page, email);
    return page;
  }

  /** The user's first located sign-in, in the US, made through the API. */
  async function usUser(label: string, ip = US) {
    const user = await rig.app.signupVerifiedAndLogin(uniqueEmail(label), PASSWORD);
    const home = await rig.app.request('POST', '/api/login', {
      body: { email: user.email, password: PASSWORD },
      headers: { 'x-forwarded-for': ip },
    });
    expect(home.status, home.text).toBe(200);
    return user;
  }

  it('a sign-in from Germany shows up live in the US tab, and "Not me" revokes it and offers a reset', async () => {
    const user = await rig.app.signupVerifiedAndLogin(uniqueEmail('live-signal'), PASSWORD);
    const home = await signedInFrom(US, user.email);
    // The list loads once the events stream is open ("ready"): from here on, events arrive live.
    await home.getByRole('list', { name: 'Security events' }).waitFor();
    await expect
      .poll(() => home.getByRole('row').filter({ hasText: 'Mountain View, United States' }).count())
      .toBeGreaterThan(0);

    const started = Date.now();
    const away = await signedInFrom(DE, user.email);
    await away.getByRole('heading', { name: 'We noticed a sign-in from an unusual place' }).waitFor();

    const events = home.getByRole('list', { name: 'Security events' });
    const travel = events.getByRole('listitem').filter({ hasText: 'Sign-in from an unusual place' });
    await travel.waitFor({ timeout: 5000 });
    expect(Date.now() - started).toBeLessThan(10_000);
    await expect.poll(() => travel.textContent()).toMatch(/Berlin.*, Germany/);
    await expect.poll(() => travel.textContent()).toContain(DE);
    await events.getByRole('listitem').filter({ hasText: 'Sign-in from another country' }).waitFor();
    await home.getByRole('link', { name: 'IP Geolocation by DB-IP' }).first().waitFor();
    expect(home.url()).toContain('/settings/security');
    await checkPage(home, 'security-events');

    // Acknowledging one event clears its "New" badge without touching the session.
    const changed = events.getByRole('listitem').filter({ hasText: 'Sign-in from another country' });
    await changed.getByRole('button', { name: /^Acknowledge/ }).click();
    await expect.poll(() => changed.getByText('New', { exact: true }).count()).toBe(0);

    await travel.getByRole('button', { name: /Not me\? Revoke that session/ }).click();
    await away.waitForURL('**/login?**reason=revoked**', { timeout: 5000 });
    await home.getByText('That session is signed out.').waitFor();
    await home.getByRole('button', { name: 'Mail me a password-reset link' }).click();
    await home.getByText(`We sent a password-reset link to ${user.email}.`).waitFor();
    await rig.app.settle();
    expect(rig.app.tokenFromMail(user.email, 'password-reset')).toMatch(/.+/);
    // The revocation itself is an event too, and the disowned one is acknowledged.
    await events.getByRole('listitem').filter({ hasText: 'A session was signed out' }).first().waitFor();
    await expect.poll(() => travel.getByText('New', { exact: true }).count()).toBe(0);
    expect(home.url()).toContain('/settings/security');
  });

  it('"Not me" also ends the session that sign-in stepped up into since', async () => {
    const user = await rig.app.signupVerifiedAndLogin(uniqueEmail('not-me-replaced'), PASSWORD);
    const home = await signedInFrom(US, user.email);
    await home.getByRole('list', { name: 'Security events' }).waitFor();
    const other = await signedInFrom(US_TOO, user.email);
    await other.getByRole('heading', { name: 'Security events' }).waitFor();
    // The other browser steps up (it knew the password): its session gets a new id.
    const stepped = await other.evaluate(async (password) => {
      const r = await fetch('/api/sessions/step-up', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ password }),
      });
      return r.status;
    }, PASSWORD);
    expect(stepped).toBe(200);

    const newDevice = home
      .getByRole('list', { name: 'Security events' })
      .getByRole('listitem')
      .filter({ hasText: 'Sign-in from a new device' })
      .filter({ hasText: US_TOO });
    await newDevice.getByRole('button', { name: /Not me\? Revoke that session/ }).click();
    await home.getByText('That session is signed out.').waitFor();
    await other.waitForURL('**/login?**reason=revoked**', { timeout: 10_000 });
    // The tab that pressed it is untouched.
    await home.reload();
    await home.getByRole('heading', { name: 'Security events' }).waitFor();
  });

  it('the held sign-in sees only the unusual-place screen until "yes" on the mailed link frees it', async () => {
    const user = await usUser('held-yes');
    const away = await signedInFrom(DE, user.email);
    await away.getByRole('heading', { name: 'We noticed a sign-in from an unusual place' }).waitFor();
    await away.getByText('We sent you a link.').waitFor();
    await away.getByText(/from Berlin.*, Germany \(85\.214\.132\.117\)/).waitFor();
    // No step-up dialog over it, and nothing of the security page behind it.
    expect(await away.getByRole('dialog').isVisible()).toBe(false);
    expect(await away.getByRole('heading', { name: 'Security events' }).count()).toBe(0);
    await checkPage(away, 'held-sign-in');

    await rig.app.settle();
    const token = rig.app.tokenFromMail(user.email, 'login-confirmation');
    const mailPage = await openPage(await from(US_TOO), `/confirm-login?token=${encodeURIComponent(token)}`);
    await mailPage.getByRole('heading', { name: 'Was this you?' }).waitFor();
    await checkPage(mailPage, 'confirm-login');
    await mailPage.getByRole('button', { name: 'Yes, it was me' }).click();
    await mailPage.getByRole('heading', { name: 'Sign-in confirmed' }).waitFor();

    // The held tab moves on by itself to the page it was going to.
    await away.getByRole('heading', { name: 'Security events' }).waitFor({ timeout: 10_000 });
    expect(away.url()).toContain('/settings/security');

    // The link works once.
    const again = await openPage(await from(US_TOO), `/confirm-login?token=${encodeURIComponent(token)}`);
    await again.getByRole('button', { name: 'No, sign it out' }).click();
    await again
      .getByRole('alert')
      .filter({ hasText: /invalid|expired|used/i })
      .waitFor();
    await away.reload();
    await away.getByRole('heading', { name: 'Security events' }).waitFor();
  });

  it('"no" on the mailed link signs the held tab out and offers a password reset', async () => {
    const user = await usUser('held-no', US_TOO);
    const away = await signedInFrom(DE, user.email);
    await away.getByRole('heading', { name: 'We noticed a sign-in from an unusual place' }).waitFor();
    await rig.app.settle();
    const token = rig.app.tokenFromMail(user.email, 'login-confirmation');
    const mailPage = await openPage(await from(US), `/confirm-login?token=${encodeURIComponent(token)}`);
    await mailPage.getByRole('button', { name: 'No, sign it out' }).click();
    await mailPage.getByRole('heading', { name: 'That session is signed out' }).waitFor();
    await mailPage.getByText('We sent you an email with a link to choose a new one.').waitFor();
    await away.waitForURL('**/login?**reason=revoked**', { timeout: 5000 });
    await rig.app.settle();
    expect(rig.app.tokenFromMail(user.email, 'password-reset')).toMatch(/.+/);
    await mailPage.getByRole('link', { name: 'Reset your password' }).click();
    await mailPage.waitForURL('**/reset-password');
  });

  it('a held sign-in of an account with two-factor confirms with a code on the unusual-place screen', async () => {
    const user = await rig.app.signupVerifiedAndLogin(uniqueEmail('held-mfa'), PASSWORD);
    // Two-factor on, through the API; backup codes stand in for the app (a TOTP step is single use).
    const sudo = await rig.app.request('POST', '/api/sessions/step-up', {
      token: user.token,
      body: { password: PASSWORD },
    });
    expect(sudo.status, sudo.text).toBe(200);
    const enrolled = await rig.app.request('POST', '/api/mfa/totp/enroll', { token: sudo.body.token });
    const confirmed = await rig.app.request('POST', '/api/mfa/totp/confirm', {
      token: sudo.body.token,
      body: { code: await generate({ secret: enrolled.body.secret, epoch: Math.floor(Date.now() / 1000) }) },
    });
    expect(confirmed.status, confirmed.text).toBe(200);
    const [first, second, third] = confirmed.body.backupCodes as string[];
    const usHeaders = { 'x-forwarded-for': US };
    const password = await rig.app.request('POST', '/api/login', {
      body: { email: user.email, password: PASSWORD },
      headers: usHeaders,
    });
    const home = await rig.app.request('POST', '/api/login/mfa', {
      body: { mfaToken: password.body.error.mfaToken, code: first },
      headers: usHeaders,
    });
    expect(home.status, home.text).toBe(200);

    const away = await openPage(await from(DE), '/login');
    await away.getByLabel('Email').fill(user.email);
    await away.getByLabel('Password').fill(PASSWORD);
    await away.getByRole('button', { name: 'Sign in', exact: true }).click();
    await away.getByLabel('Code').fill(second!);
    await away.getByRole('button', { name: 'Verify' }).click();
    await away.getByRole('heading', { name: 'We noticed a sign-in from an unusual place' }).waitFor();
    expect(await away.getByText('We sent you a link.').count()).toBe(0);
    await rig.app.settle();
    expect(
      rig.app.mails().filter((m) => m.to === user.email && m.action.type === 'login-confirmation'),
    ).toEqual([]);
    // A wrong code says so and keeps the screen.
    await away.getByLabel('Code').fill('000000');
    await away.getByRole('button', { name: 'Confirm' }).click();
    await away.getByRole('alert').waitFor();
    await away.getByLabel('Code').fill(third!);
    await away.getByRole('button', { name: 'Confirm' }).click();
    await away.getByRole('heading', { name: 'Security events' }).waitFor();
    expect(away.url()).toContain('/settings/security');
  });

  it('a link without a token says so', async () => {
    const page = await openPage(await from(US), '/confirm-login');
    await page.getByText('This link is incomplete.').waitFor();
  });
});

describe('a held sign-in with a passkey', { timeout: 120_000 }, () => {
  // WebAuthn refuses an IP address as the RP ID, so this rig serves the console on localhost.
  const rig = useRig({ host: 'localhost', env: { TRUSTED_PROXY_HOPS: '1' } });

  it('confirms with the passkey on the unusual-place screen', async () => {
    const user = await rig.app.signupVerifiedAndLogin(uniqueEmail('held-passkey'), PASSWORD);
    const context = await rig.context();
    await context.setExtraHTTPHeaders({ 'x-forwarded-for': US });
    const page = await openPage(context, '/login');
    await signInByForm(page, user.email);
    const { cdp, authenticatorId } = await virtualAuthenticator(page);
    await page.getByLabel('Passkey name').fill('Laptop');
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    const dialog = page.getByRole('dialog', { name: 'Confirm it’s you' });
    await dialog.getByLabel('Password').fill(PASSWORD);
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    await page.getByRole('button', { name: 'Rename Laptop' }).waitFor();
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.waitForURL('**/login**');

    // The same browser, now seemingly in Germany minutes later: held, with a passkey to confirm.
    await context.setExtraHTTPHeaders({ 'x-forwarded-for': DE });
    // The Email field offers passkeys (autofill), and a virtual authenticator that answers by itself
    // would take that offer: this sign-in is meant to be by password, so it answers nothing meanwhile.
    await cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled: false });
    await page.getByLabel('Email').fill(user.email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'We noticed a sign-in from an unusual place' }).waitFor();
    await page.getByText('We sent you a link.').waitFor();
    await cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled: true });
    await page.getByRole('button', { name: 'Use a passkey' }).click();
    await page.getByRole('heading', { name: 'Security events' }).waitFor();
    expect(page.url()).toContain('/settings/security');
  });
});
