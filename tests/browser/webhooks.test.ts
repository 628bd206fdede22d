import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebhookReceiver } from '../helpers/webhook-receiver.js';
import { checkPage, openPage, PASSWORD, signInByForm, uniqueEmail, useRig } from './harness.js';

describe('webhooks in the console', { timeout: 120_000 }, () => {
  const rig = useRig();
  const receiver = new WebhookReceiver();
  let url: string;
  beforeAll(async () => {
    url = await receiver.start('/siem');
  });
  afterAll(() => receiver.stop());

  it('adds an endpoint after a step-up, shows its secret once, sends a test event and retries it from the delivery log', async () => {
    const owner = await rig.app.signupVerifiedAndLogin(uniqueEmail('hooks'), PASSWORD);
    const slug = `hooks-${Date.now()}`;
    const org = await rig.app.request('POST', '/api/orgs', {
      token: owner.token,
      body: { name: 'Hooks Inc', slug },
    });
    expect(org.status).toBe(201);
    const page = await openPage(await rig.context(), '/login');
    await signInByForm(page, owner.email);
    await page.goto(`/orgs/${slug}/webhooks`);
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    await page.getByLabel('URL').fill(url);
    await page.getByLabel('Events').fill('*');
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    const dialog = page.getByRole('dialog', { name: 'Confirm it’s you' });
    await dialog.waitFor();
    await dialog.getByLabel('Password').fill(PASSWORD);
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    const secret = (await page.getByTestId('webhook-secret').textContent())!.trim();
    expect(secret).toMatch(/^whsec_/);
    await page.getByText('it is shown only once').waitFor();
    await page.getByRole('cell', { name: url, exact: true }).waitFor();
    await checkPage(page, 'org-webhooks');

    await page.getByRole('button', { name: 'Send test event' }).click();
    await rig.app.settle();
    // The endpoint takes every event ("*"), so the org's own audit events may arrive first.
    const isTest = (r: { body: string }) => JSON.parse(r.body).type === 'webhook.test';
    for (let waited = 0; !receiver.received.some(isTest) && waited < 10_000; waited += 50) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const test = receiver.received.find(isTest)!;
    expect(test, 'the test event reached the receiver').toBeDefined();
    expect(new Webhook(secret).verify(test.body, test.headers as Record<string, string>)).toMatchObject({
      type: 'webhook.test',
    });

    await page.getByRole('button', { name: 'Deliveries' }).click();
    const row = page.getByRole('row').filter({ hasText: 'webhook.test' });
    await row.getByRole('cell', { name: '200', exact: true }).waitFor();
    await row.getByText('delivered').waitFor();
    await row.getByText('Preview').click();
    await row.getByText('"type":"webhook.test"').waitFor();
    await checkPage(page, 'org-webhook-deliveries');
    const before = receiver.received.length;
    await row.getByRole('button', { name: /Retry delivery/ }).click();
    await page.getByText('Queued again, with the same webhook-id.').waitFor();
    await rig.app.settle();
    const again = () =>
      receiver.received.slice(before).some((r) => r.headers['webhook-id'] === test.headers['webhook-id']);
    for (let waited = 0; !again() && waited < 10_000; waited += 50) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(again(), 'the retry carried the same webhook-id').toBe(true);
  });
});
