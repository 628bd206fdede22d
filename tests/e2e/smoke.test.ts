import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSmokeArgs, runSmoke, type SmokeOptions, tokenIn } from '../../scripts/smoke.js';
import { startTestApp, type TestApp } from '../helpers/app.js';

let app: TestApp;
const options = (overrides: Partial<SmokeOptions> = {}): SmokeOptions => ({
  url: app.url,
  email: 'smoke-{n}@example.com',
  password: 'smoke test passphrase 42',
  console: false,
  mailTimeoutMs: 20_000,
  ...overrides,
});

beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app?.stop();
});

describe('npm run smoke against the local runtime', () => {
  it('walks health, signup, the verification mail, verify, login, the session and its revocation', async () => {
    const steps = await runSmoke(options({ mailDir: join(app.dataDir, 'outbox') }));
    expect(steps.map((s) => `${s.name}: ${s.outcome}`)).toEqual([
      'health: ok',
      'signup: ok',
      'mail: ok',
      'verify: ok',
      'login: ok',
      'session: ok',
      'revoke: ok',
      'revoked token refused: ok',
    ]);
  });

  it('reads the mail through a mailbox command that gets the address in $SMOKE_EMAIL', async () => {
    const outbox = join(app.dataDir, 'outbox');
    const steps = await runSmoke(
      options({ mailboxCommand: `grep -l "$SMOKE_EMAIL" ${outbox}/*.json | xargs cat` }),
    );
    expect(steps.every((s) => s.outcome === 'ok')).toBe(true);
    expect(steps.find((s) => s.name === 'revoked token refused')).toBeDefined();
  });

  it('without a mailbox reader it stops after signup and says what it skipped and why', async () => {
    const steps = await runSmoke(options());
    expect(steps.at(-1)).toMatchObject({ name: 'mail → verify → login → revoke', outcome: 'skipped' });
    expect(steps.at(-1)?.detail).toContain('--mailbox-command');
    expect(steps.some((s) => s.outcome === 'failed')).toBe(false);
  });

  it('fails at the first broken step: no mail arriving, or a console that is not there', async () => {
    const silent = await runSmoke(options({ mailboxCommand: 'true', mailTimeoutMs: 1_500 }));
    expect(silent.at(-1)).toMatchObject({ name: 'mail', outcome: 'failed' });
    // A front door that answers `/` with a 404 instead of the console's HTML.
    const noConsoleFetch: typeof fetch = (input, init) =>
      String(input) === `${app.url}/`
        ? Promise.resolve(new Response('not found', { status: 404 }))
        : fetch(input, init);
    const noConsole = await runSmoke(options({ console: true }), noConsoleFetch);
    expect(noConsole[1]).toMatchObject({ name: 'console', outcome: 'failed' });
  });

  it('finds the token in a quoted-printable mail and parses its command line', () => {
    expect(tokenIn('Verify: https://app.example.com/verify?token=3D=\nabcdefghijklmnopqrst\n')).toBe(
      'abcdefghijklmnopqrst',
    );
    expect(() => parseSmokeArgs([])).toThrow('usage: npm run smoke');
    expect(parseSmokeArgs(['--url', 'https://a.example', '--no-console'])).toMatchObject({
      url: 'https://a.example',
      console: false,
    });
  });
});
