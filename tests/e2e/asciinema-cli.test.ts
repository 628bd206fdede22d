import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { hasCommand } from '../helpers/commands.js';
import { issueApiKey } from '../helpers/keys.js';
import { createOrg, newUser, orgTestEnv, type TestUser } from '../helpers/orgs.js';
import { parseAsciicast, rawGet } from '../helpers/recordings.js';

const run = promisify(execFile);

/** .ci/run installs the Debian `asciinema` package; elsewhere the test names why it skips. */
const hasAsciinema = hasCommand('asciinema');
const title = hasAsciinema
  ? 'records a command, uploads it with an org API key as install id, and the playback URL serves its output'
  : 'SKIPPED because the `asciinema` CLI is not installed (apt-get install asciinema): real-CLI upload';

let app: TestApp;
let owner: TestUser;
let orgId: string;
let dir: string;

beforeAll(async () => {
  if (!hasAsciinema) return;
  app = await startTestApp({ env: orgTestEnv });
  owner = await newUser(app, 'owner');
  orgId = (await createOrg(app, owner)).id;
  dir = mkdtempSync(join(tmpdir(), 'asciinema-'));
}, 180_000);
afterAll(async () => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  await app?.stop();
});

describe('the real asciinema CLI', () => {
  it.skipIf(!hasAsciinema)(
    title,
    async () => {
      const key = await issueApiKey(app, orgId, 'member');
      const configHome = join(dir, 'config');
      execFileSync('mkdir', ['-p', configHome]);
      writeFileSync(join(configHome, 'install-id'), key);
      const cast = join(dir, 'file.cast');
      const env = {
        ...process.env,
        ASCIINEMA_CONFIG_HOME: configHome,
        ASCIINEMA_API_URL: `${app.url}/api/recordings/asciinema`,
        USER: 'ci-bot',
      };
      await run('asciinema', ['rec', '--quiet', '--overwrite', '-c', 'printf hello', cast], {
        env,
        timeout: 30_000,
      });
      const uploaded = await run('asciinema', ['upload', cast], { env, timeout: 30_000 });
      // asciinema 2.x prints the URL on stderr.
      const printed = uploaded.stdout + uploaded.stderr;
      const url = /https?:\/\/\S+\/api\/recordings\/[0-9a-f-]{36}\/playback/.exec(printed)?.[0];
      expect(url, printed).toBeDefined();
      await app.settle();

      const link = await app.request('GET', new URL(url ?? '').pathname, { token: key });
      expect(link.status).toBe(200);
      const signed = new URL(link.body.url);
      const served = await rawGet(app, `${signed.pathname}${signed.search}`);
      expect(served.status).toBe(200);
      const output = parseAsciicast(served.body)
        .events.map((e) => e[2])
        .join('');
      expect(output).toContain('hello');
      const list = await app.request('GET', `/api/orgs/${orgId}/recordings`, { token: owner.token });
      expect(JSON.stringify(list.body)).toContain('uploaded by ci-bot');
    },
    60_000,
  );
});
