import type { Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { startLoopbackDns } from '../helpers/dns.js';
import { startOidcProvider } from '../helpers/oidc.js';
import { createOrg, grantMembership } from '../helpers/orgs.js';
import { idpMetadata, makeKeyPair } from '../helpers/saml-idp.js';
import { checkPage, openPage, PASSWORD, signInByForm, uniqueEmail, useRig } from './harness.js';

// Domain verification asks this loopback server (DNS_RESOLVER), never the machine's resolvers.
const dns = await startLoopbackDns();
const IDP = 'https://idp.corp.test/saml';
const keys = makeKeyPair('console-idp');

/** Confirms the step-up dialog with the password when the API asks for it. */
async function stepUp(page: Page): Promise<void> {
  const dialog = page.getByRole('dialog', { name: 'Confirm it’s you' });
  await dialog.waitFor();
  await dialog.getByLabel('Password').fill(PASSWORD);
  await dialog.getByRole('button', { name: 'Confirm' }).click();
  await dialog.waitFor({ state: 'hidden' });
}

describe('enterprise single sign-on in the console', { timeout: 180_000 }, () => {
  const rig = useRig({ env: { DNS_RESOLVER: dns.address } });
  afterAll(() => dns.stop());

  it('an owner sets up SAML from an uploaded metadata file, verifies a domain through DNS and requires SSO', async () => {
    const owner = await rig.app.signupVerifiedAndLogin(uniqueEmail('sso-owner'), PASSWORD);
    const slug = `corp-${Date.now()}`;
    await rig.app.request('POST', '/api/orgs', { token: owner.token, body: { name: 'Corp', slug } });
    const page = await openPage(await rig.context(), '/login');
    await signInByForm(page, owner.email);
    await page.goto(`/orgs/${slug}/members`);
    await page.getByRole('link', { name: 'Single sign-on', exact: true }).click();
    await page.waitForURL(`**/orgs/${slug}/sso`);
    await page.getByText('Single sign-on is not set up.').waitFor();

    // What to register at the IdP is shown before anything is saved, ready to copy.
    const origin = new URL(page.url()).origin;
    expect(await page.getByLabel('SP metadata URL').inputValue()).toBe(
      `${origin}/api/login/saml/${slug}/metadata`,
    );
    expect(await page.getByLabel('ACS URL').inputValue()).toBe(`${origin}/api/login/saml/acs`);
    await page.getByRole('button', { name: 'Copy SP metadata URL' }).waitFor();

    // Requiring SSO before it is set up: refused in words, after the step-up.
    await page.getByLabel('Require single sign-on for accounts at verified domains').check();
    await page.getByRole('button', { name: 'Save enforcement' }).click();
    await stepUp(page);
    await page.getByText('Set up single sign-on before enforcing it.').waitFor();

    // Metadata without a signing certificate: the field says why.
    const metadata = idpMetadata(IDP, 'https://idp.corp.test/sso', keys.certBase64);
    await page
      .getByLabel('IdP metadata XML')
      .fill(metadata.replace(/<md:KeyDescriptor[\s\S]*<\/md:KeyDescriptor>/, ''));
    await page.getByLabel('Allowed email domains').fill('corp.test');
    await page.getByRole('button', { name: 'Save single sign-on settings' }).click();
    await page.getByText('IdP metadata: no signing certificate').waitFor();

    // The real file, uploaded.
    await page.getByLabel('Upload IdP metadata file').setInputFiles({
      name: 'idp-metadata.xml',
      mimeType: 'application/xml',
      buffer: Buffer.from(metadata),
    });
    await page.getByText('Read idp-metadata.xml.').waitFor();
    expect(await page.getByLabel('IdP metadata XML').inputValue()).toBe(metadata);
    await page.getByRole('button', { name: 'Save single sign-on settings' }).click();
    await page.getByText(`SAML saved for ${IDP}.`).waitFor();
    const current = page.getByTestId('sso-current');
    await current.getByText('SAML 2.0').waitFor();
    await current.getByText('https://idp.corp.test/sso').waitFor();
    const metadataUrl = await page.getByLabel('SP metadata URL').first().inputValue();
    expect(metadataUrl).toBe(`${origin}/api/login/saml/${slug}/metadata`);
    const sp = await rig.app.request('GET', new URL(metadataUrl).pathname);
    expect(sp.status).toBe(200);
    expect(sp.text).toContain(`Location="${origin}/api/login/saml/acs"`);

    await page.getByRole('checkbox', { name: 'Owners keep a break-glass password sign-in' }).check();
    await page.getByRole('button', { name: 'Save enforcement' }).click();
    await page
      .getByText(/Single sign-on is now required .* owners keep a break-glass password sign-in/)
      .waitFor();
    await page.getByTestId('enforce-warning').getByText('nobody at those domains can sign in').waitFor();
    await checkPage(page, 'org-sso');
    const policy = await rig.app.request('GET', `/api/orgs/${await orgId(slug)}/policy`, {
      token: owner.token,
    });
    expect(policy.body).toMatchObject({ enforceSso: true, allowBreakGlass: true });

    // Domains: add, see the record to publish, a failed check in words, then publish and verify.
    await page.getByRole('link', { name: 'Domains', exact: true }).click();
    await page.waitForURL(`**/orgs/${slug}/domains`);
    await page.getByLabel('Domain', { exact: true }).fill('Corp.Test');
    await page.getByRole('button', { name: 'Add domain' }).click();
    await page.getByText('corp.test added. Publish its TXT record, then choose Verify.').waitFor();
    const row = page.getByTestId('domain-corp.test');
    await row.getByText('Waiting for the TXT record').waitFor();
    const txtName = (await row.getByTestId('txt-name').textContent())!.trim();
    const txtValue = (await row.getByTestId('txt-value').textContent())!.trim();
    expect(txtName).toBe('_sessionforge-verification.corp.test');
    expect(txtValue).toMatch(/^sessionforge-verification=/);
    await row.getByRole('button', { name: 'Copy the TXT value for corp.test' }).waitFor();
    await checkPage(page, 'org-domains-pending');

    await row.getByRole('button', { name: 'Verify corp.test' }).click();
    await row
      .getByText(
        'Not verified yet. No TXT record at _sessionforge-verification.corp.test has the expected value yet.',
      )
      .waitFor();
    // A record that merely contains the value proves nothing.
    dns.txt.set(txtName, [[`x${txtValue}`]]);
    await row.getByRole('button', { name: 'Verify corp.test' }).click();
    await row.getByRole('alert').getByText('Not verified yet.').waitFor();
    dns.txt.set(txtName, [['v=spf1 -all'], [txtValue]]);
    await row.getByRole('button', { name: 'Verify corp.test' }).click();
    await row.getByText(/^Verified /).waitFor();
    expect(await row.getByRole('button', { name: 'Verify corp.test' }).count()).toBe(0);
    await checkPage(page, 'org-domains');

    // A claim that is no longer wanted goes after a second click.
    await page.getByLabel('Domain', { exact: true }).fill('spare.test');
    await page.getByRole('button', { name: 'Add domain' }).click();
    const spare = page.getByTestId('domain-spare.test');
    await spare.getByRole('button', { name: 'Remove spare.test' }).click();
    await spare.getByRole('button', { name: 'Keep spare.test' }).click();
    await spare.getByRole('button', { name: 'Remove spare.test' }).click();
    await spare.getByRole('button', { name: 'Yes, remove spare.test' }).click();
    await spare.waitFor({ state: 'detached' });
    await row.getByText(/^Verified /).waitFor();

    // Enforcement now holds: a password sign-in of an account at corp.test is sent to SSO.
    const ann = `ann-${Date.now()}@corp.test`;
    await rig.app.request('POST', '/api/accounts/signup', {
      body: { email: ann, password: PASSWORD, name: 'Ann' },
    });
    await rig.app.settle();
    await rig.app.request('POST', '/api/accounts/verify-email', {
      body: { token: rig.app.tokenFromMail(ann, 'verify-email') },
    });
    const refused = await rig.app.request('POST', '/api/login', { body: { email: ann, password: PASSWORD } });
    expect(refused.status, refused.text).toBe(403);
    expect(refused.body.error).toMatchObject({ code: 'SSO_REQUIRED', ssoUrl: expect.stringContaining(slug) });

    // Turning SSO off while it is required would leave corp.test with no way in: refused in words.
    await page.getByRole('link', { name: 'Single sign-on', exact: true }).click();
    await page.getByRole('button', { name: 'Turn off single sign-on' }).click();
    await page.getByRole('button', { name: 'Yes, turn off single sign-on' }).click();
    await page.getByText('stop requiring it before turning it off.').waitFor();
    await page.getByTestId('sso-current').getByText('SAML 2.0').waitFor();
  });

  it('an owner sets up OpenID Connect: a provider that does not answer discovery is refused in words', async () => {
    const idp = await startOidcProvider(`${rig.app.url}/api/login/sso/callback`);
    try {
      const owner = await rig.app.signupVerifiedAndLogin(uniqueEmail('oidc-owner'), PASSWORD);
      const org = await createOrg(rig.app, owner);
      const page = await openPage(await rig.context(), '/login');
      await signInByForm(page, owner.email);
      await page.goto(`/orgs/${org.slug}/sso`);
      await page.getByLabel('OpenID Connect').check();
      await page.getByLabel('Issuer URL').fill(`${idp.url}/nothing-here`);
      await page.getByLabel('Client ID').fill(idp.clientId);
      await page.getByLabel('Client secret').fill(idp.clientSecret);
      await page.getByLabel('Allowed email domains').fill('acme.test, acme.example');
      await page.getByLabel('Role of new members').selectOption('viewer');
      await page.getByRole('button', { name: 'Save single sign-on settings' }).click();
      await stepUp(page);
      await page.getByRole('alert').getByText('The identity provider could not be reached.').waitFor();
      expect(await page.getByTestId('sso-current').count()).toBe(0);

      await page.getByLabel('Issuer URL').fill(idp.url);
      await page.getByRole('button', { name: 'Save single sign-on settings' }).click();
      await page.getByText(`OpenID Connect saved for ${idp.url}.`).waitFor();
      const current = page.getByTestId('sso-current');
      await current.getByText('OpenID Connect').waitFor();
      await current.getByText('acme.example, acme.test').waitFor();
      expect(await page.getByLabel('Redirect URI').inputValue()).toBe(
        `${rig.app.url}/api/login/sso/callback`,
      );
      // The secret is sealed: never shown again, and the field says how to keep it.
      expect(await page.content()).not.toContain(idp.clientSecret);
      await page.getByText('Leave empty to keep the stored secret').waitFor();
      await checkPage(page, 'org-sso-oidc');

      await page.getByRole('button', { name: 'Turn off single sign-on' }).click();
      await page.getByRole('button', { name: 'Keep single sign-on' }).click();
      await page.getByRole('button', { name: 'Turn off single sign-on' }).click();
      await page.getByRole('button', { name: 'Yes, turn off single sign-on' }).click();
      await page.getByText('Single sign-on is not set up.').waitFor();
    } finally {
      await idp.stop();
    }
  });

  it('an admin who is not an owner sees single sign-on and domains read-only, and the API refuses them', async () => {
    const owner = await rig.app.signupVerifiedAndLogin(uniqueEmail('sso-owner2'), PASSWORD);
    const org = await createOrg(rig.app, owner);
    const admin = await rig.app.signupVerifiedAndLogin(uniqueEmail('sso-admin'), PASSWORD);
    await grantMembership(rig.app, org.id, admin.userId, 'admin');
    const page = await openPage(await rig.context(), '/login');
    await signInByForm(page, admin.email);

    await page.goto(`/orgs/${org.slug}/sso`);
    await page.getByText(`Only owners of ${org.name} can see and change single sign-on.`).waitFor();
    await page.getByText('Read-only: only an owner changes enforcement.').waitFor();
    expect(
      await page.getByLabel('Require single sign-on for accounts at verified domains').isDisabled(),
    ).toBe(true);
    expect(await page.getByRole('button', { name: /Save/ }).count()).toBe(0);
    expect(await page.getByLabel('IdP metadata XML').count()).toBe(0);
    await checkPage(page, 'org-sso-admin');

    await page.getByRole('link', { name: 'Domains', exact: true }).click();
    await page.getByText(`Only owners of ${org.name} can see and verify its domains.`).waitFor();
    expect(await page.getByRole('button', { name: 'Add domain' }).count()).toBe(0);

    // Going around the console changes nothing: the same calls from the admin's browser are refused.
    const answers = await page.evaluate(async (orgId) => {
      const call = async (method: string, path: string, body?: unknown) => {
        const r = await fetch(path, {
          method,
          headers: { 'content-type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        return { status: r.status, code: ((await r.json()) as { error?: { code?: string } }).error?.code };
      };
      return [
        await call('GET', `/api/orgs/${orgId}/sso`),
        await call('PUT', `/api/orgs/${orgId}/sso`, {
          protocol: 'saml',
          idpMetadataXml: '<x/>',
          allowedDomains: ['corp.test'],
          defaultRole: 'admin',
          passwordLoginAllowed: true,
        }),
        await call('POST', `/api/orgs/${orgId}/domains`, { domain: 'evil.test' }),
        await call('PATCH', `/api/orgs/${orgId}/policy`, { enforceSso: false, allowBreakGlass: true }),
      ];
    }, org.id);
    for (const answer of answers) expect(answer).toEqual({ status: 403, code: 'INSUFFICIENT_ROLE' });
  });

  async function orgId(slug: string): Promise<string> {
    const row = await rig.app.runtime.platform.db
      .selectFrom('orgs')
      .select('id')
      .where('slug', '=', slug)
      .executeTakeFirstOrThrow();
    return row.id;
  }
});
