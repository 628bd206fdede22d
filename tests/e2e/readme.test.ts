import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { hasCommand } from '../helpers/commands.js';
import { judge, lineMatches, runBlock, shellBlocks, walkthroughs } from '../helpers/readme.js';

/**
 * The README's walk-throughs, run as a reader would paste them: in order, each with bash from
 * the checkout against a fresh local runtime, each expected to exit 0 and print its `#> ` lines.
 * The runtime trusts one proxy hop, as the README asks for these blocks, so each block plays its
 * own client address (scripts/sf) and no block spends another's rate limits.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const readmeLines = readme.split('\n');
const blocks = walkthroughs(readme);

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

let app: TestApp;
let dir: string;
beforeAll(async () => {
  const port = await freePort();
  app = await startTestApp({
    env: { PORT: String(port), APP_URL: `http://127.0.0.1:${port}`, TRUSTED_PROXY_HOPS: '1' },
  });
  dir = mkdtempSync(join(tmpdir(), 'sf-readme-'));
  mkdirSync(join(dir, 'home'));
}, 120_000);
afterAll(async () => {
  await app?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the README walk-throughs', () => {
  it('are found: every shell block that sources scripts/sf is a titled, tested walk-through', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(9);
    const untested = shellBlocks(readme).filter(
      (b) => b.code.includes('scripts/sf') && !b.info.includes('title=') && !b.info.includes('example'),
    );
    expect(untested.map((b) => `README.md:${b.line}`)).toEqual([]);
    for (const block of blocks) {
      // A subshell: a failing step stops the block, never the reader's own shell.
      expect(block.code.startsWith('(') && block.code.trimEnd().endsWith(')'), block.title).toBe(true);
      expect(block.code, block.title).toMatch(/\. scripts\/sf/);
    }
  });

  it('match output lines with … standing for ids, tokens and times', () => {
    expect(lineMatches('{"id":"…","role":"viewer"}', '{"id":"3f2a","role":"viewer"}')).toBe(true);
    expect(lineMatches('{"id":"…","role":"viewer"}', '{"id":"3f2a","role":"admin"}')).toBe(false);
    expect(lineMatches('a.b', 'axb')).toBe(false);
  });

  it('report a failing block by its title, the README line of the failed command and the API error', async () => {
    const readmeText = [
      'intro',
      '```sh title="Broken on purpose"',
      '( . scripts/sf',
      'sf GET /api/health',
      '#> {"status":"ok"}',
      'sf GET /api/no-such-thing',
      ')',
      '```',
      '```sh title="Prints something else"',
      '( . scripts/sf',
      'echo hello',
      '#> hullo',
      ')',
      '```',
    ].join('\n');
    const [broken, misprinting] = walkthroughs(readmeText);
    const env = { PATH: process.env.PATH, SF_URL: app.url, DATA_DIR: app.dataDir };
    const options = { dir, cwd: root, env, timeoutMs: 30_000 };
    const lines = readmeText.split('\n');
    expect(judge(broken!, await runBlock(broken!, options), lines)).toMatch(
      new RegExp(
        [
          '^README walk-through "Broken on purpose" \\(README.md:2\\) exited 22',
          '  last command: README.md:6: sf GET /api/no-such-thing',
          '  stderr:',
          '    ✗ GET /api/no-such-thing → 404 NOT_FOUND: No such route.',
        ].join('\n'),
      ),
    );
    expect(judge(misprinting!, await runBlock(misprinting!, options), lines)).toMatch(
      /^README walk-through "Prints something else" \(README.md:9\) printed something else at output line 1\n {2}README shows: README.md:12: #> hullo\n {2}printed: {6}hello\n/,
    );
  });

  // README_ONLY=<part of a title> runs just the matching blocks (each block stands alone).
  const only = process.env.README_ONLY;
  for (const block of blocks) {
    const missing = block.needs.filter((tool) => !hasCommand(tool));
    const unwanted = only !== undefined && !block.title.includes(only);
    const title =
      missing.length > 0
        ? `SKIPPED because ${missing.join(', ')} is not installed (.ci/run installs it): "${block.title}"`
        : unwanted
          ? `SKIPPED because README_ONLY is set: "${block.title}"`
          : `"${block.title}" runs as written and prints what the README shows`;
    it.skipIf(missing.length > 0 || unwanted)(
      title,
      async () => {
        const run = await runBlock(block, {
          dir,
          cwd: root,
          timeoutMs: 150_000,
          env: {
            PATH: process.env.PATH,
            LANG: 'C.UTF-8',
            HOME: join(dir, 'home'),
            USER: 'ada',
            SF_URL: app.url,
            DATA_DIR: app.dataDir,
          },
        });
        const verdict = judge(block, run, readmeLines);
        if (verdict) throw new Error(verdict);
      },
      180_000,
    );
  }
});
