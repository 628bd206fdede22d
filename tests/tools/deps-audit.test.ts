import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditVerdict } from '../../scripts/deps-audit/verdict.js';

const report = (counts: Record<string, number>) =>
  JSON.stringify({
    auditReportVersion: 2,
    vulnerabilities: {},
    metadata: { vulnerabilities: { info: 0, ...counts } },
  });

describe('the weekly dependency audit verdict', () => {
  it('passes with only low and moderate advisories', () => {
    expect(auditVerdict(report({ low: 3, moderate: 1, high: 0, critical: 0 }))).toMatchObject({
      verdict: 'clean',
      exitCode: 0,
    });
  });

  it('fails on any high or critical advisory', () => {
    expect(auditVerdict(report({ low: 0, moderate: 0, high: 1, critical: 0 }))).toMatchObject({
      verdict: 'vulnerable',
      exitCode: 1,
    });
    expect(auditVerdict(report({ low: 0, moderate: 0, high: 0, critical: 2 }))).toMatchObject({
      verdict: 'vulnerable',
      exitCode: 1,
      message: '2 critical and 0 high advisories in production dependencies.',
    });
  });

  it('gives no verdict, never a pass, when the registry cannot be reached', () => {
    const offline = JSON.stringify({
      error: {
        code: 'ENOTFOUND',
        summary: 'request to https://registry.npmjs.org/-/npm/v1/security/advisories/bulk failed',
      },
    });
    expect(auditVerdict(offline)).toMatchObject({
      verdict: 'unknown',
      reason: 'advisories_unreachable',
      exitCode: 2,
    });
    expect(auditVerdict(offline).message).toContain('No verdict: no advisories endpoint could be reached');
    // npm 11's shape for a refused connection: the reason in `message`, an empty error object.
    const refusedConnection = JSON.stringify({
      message:
        'request to http://127.0.0.1:1/-/npm/v1/security/advisories/bulk failed, reason: connect ECONNREFUSED',
      error: { summary: '', detail: '' },
    });
    expect(auditVerdict(refusedConnection)).toMatchObject({
      verdict: 'unknown',
      reason: 'advisories_unreachable',
    });
  });

  it('gives no verdict when a registry mirror refuses the advisories endpoint', () => {
    const refused = JSON.stringify({
      message: '405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk',
      statusCode: 405,
      error: { summary: '', detail: '' },
    });
    expect(auditVerdict(refused)).toMatchObject({ verdict: 'unknown', exitCode: 2 });
    expect(auditVerdict(refused).message).toContain('405 Method Not Allowed');
  });

  it('gives no verdict on output that is not a report', () => {
    expect(auditVerdict('')).toMatchObject({ verdict: 'unknown', reason: 'no_report', exitCode: 2 });
    expect(auditVerdict('{"unexpected":true}')).toMatchObject({ verdict: 'unknown', exitCode: 2 });
  });
});

/**
 * `npm run audit:deps` itself, end to end: real npm, pointed with --registry at a local registry
 * that speaks the bulk advisories endpoint (POST /-/npm/v1/security/advisories/bulk, a gzipped
 * `{name: [versions]}` body, answered with advisories keyed by name) and serves the packuments npm
 * reads to work out fixes. The project audited is a fixture with one production and one
 * development dependency.
 */
type Mode = 'clean' | 'vulnerable' | 'refused';
const repo = fileURLToPath(new URL('../..', import.meta.url));
let mode: Mode = 'clean';
let server: Server;
let registry: string;
let project: string;
const bulkBodies: unknown[] = [];

const advisory = (severity: string) => ({
  id: severity === 'high' ? 1001 : 1002,
  url: `https://github.com/advisories/GHSA-test-${severity}`,
  title: `A ${severity} advisory`,
  severity,
  vulnerable_versions: '<1.0.1',
  cwe: ['CWE-1321'],
  cvss: { score: severity === 'high' ? 7.5 : 9.8, vectorString: null },
});

beforeAll(async () => {
  project = mkdtempSync(join(tmpdir(), 'sessionforge-deps-audit-'));
  const pkg = {
    name: 'fixture',
    version: '1.0.0',
    dependencies: { prodpkg: '1.0.0' },
    devDependencies: { devpkg: '1.0.0' },
  };
  writeFileSync(join(project, 'package.json'), JSON.stringify(pkg));
  writeFileSync(
    join(project, 'package-lock.json'),
    JSON.stringify({
      name: 'fixture',
      version: '1.0.0',
      lockfileVersion: 3,
      requires: true,
      packages: {
        '': pkg,
        'node_modules/prodpkg': { version: '1.0.0' },
        'node_modules/devpkg': { version: '1.0.0', dev: true },
      },
    }),
  );
  for (const name of ['prodpkg', 'devpkg']) {
    mkdirSync(join(project, 'node_modules', name), { recursive: true });
    writeFileSync(
      join(project, 'node_modules', name, 'package.json'),
      JSON.stringify({ name, version: '1.0.0' }),
    );
  }
  server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (path === '/-/npm/v1/security/advisories/bulk' && req.method === 'POST') {
      if (mode === 'refused') {
        // What a registry without the endpoint answers (the public mirror here does exactly this).
        res.writeHead(405, { allow: 'GET,HEAD', 'content-length': '0' });
        return res.end();
      }
      const raw = Buffer.concat(chunks);
      const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
      bulkBodies.push(JSON.parse(body.toString('utf8')));
      // The dev dependency has a critical advisory: --omit=dev must keep it out of the verdict.
      return json(
        200,
        mode === 'clean' ? {} : { prodpkg: [advisory('high')], devpkg: [advisory('critical')] },
      );
    }
    const name = decodeURIComponent(path.slice(1));
    if (req.method === 'GET' && (name === 'prodpkg' || name === 'devpkg')) {
      const version = (v: string) => ({
        name,
        version: v,
        dist: { tarball: `${registry}${name}/-/${name}-${v}.tgz` },
      });
      return json(200, {
        name,
        'dist-tags': { latest: '1.0.1' },
        versions: { '1.0.0': version('1.0.0'), '1.0.1': version('1.0.1') },
      });
    }
    return json(404, { error: 'not found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  registry = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server?.close(() => resolve()));
  if (project) rmSync(project, { recursive: true, force: true });
});

/** Runs the script as the Cloud Build step does, in the fixture project; returns its exit code, stderr/stdout and report. */
function auditDeps(): Promise<{ code: number; output: string; report: Record<string, unknown> }> {
  const out = join(project, 'report.json');
  rmSync(out, { force: true });
  return new Promise((resolve) => {
    execFile(
      join(repo, 'node_modules', '.bin', 'tsx'),
      [join(repo, 'scripts', 'audit-deps.ts'), '--out', out, '--registry', registry],
      {
        cwd: project,
        env: { ...process.env, npm_config_cache: join(project, '.npm-cache') },
        timeout: 90_000,
      },
      (error, stdout, stderr) => {
        const code = error ? Number((error as { code?: number }).code ?? -1) : 0;
        resolve({ code, output: `${stdout}${stderr}`, report: JSON.parse(readFileSync(out, 'utf8')) });
      },
    );
  });
}

describe('npm run audit:deps against a registry', () => {
  it('is clean (exit 0) when the advisories endpoint answers with nothing for production dependencies', async () => {
    mode = 'clean';
    const { code, output, report } = await auditDeps();
    expect(code, output).toBe(0);
    expect(output).toContain('No high or critical advisories in production dependencies.');
    expect(report).toMatchObject({
      verdict: 'clean',
      exitCode: 0,
      registry,
      counts: { high: 0, critical: 0 },
    });
    // Only production dependencies are sent.
    expect(bulkBodies.at(-1)).toEqual({ prodpkg: ['1.0.0'] });
  }, 120_000);

  it('fails (exit 1) on a high advisory in a production dependency, whatever the dev ones say', async () => {
    mode = 'vulnerable';
    const { code, output, report } = await auditDeps();
    expect(code, output).toBe(1);
    expect(output).toContain('0 critical and 1 high advisories in production dependencies.');
    expect(report).toMatchObject({ verdict: 'vulnerable', exitCode: 1, counts: { high: 1, critical: 0 } });
    expect(Object.keys((report.npm as { vulnerabilities: object }).vulnerabilities)).toEqual(['prodpkg']);
  }, 120_000);

  it('says there is no verdict (exit 2, verdict unknown), never clean, when the registry refuses the advisories endpoint', async () => {
    mode = 'refused';
    const { code, output, report } = await auditDeps();
    expect(code, output).toBe(2);
    expect(output).toContain('No verdict: no advisories endpoint could be reached (405 Method Not Allowed');
    expect(output).toContain('This is not a pass');
    expect(report).toMatchObject({
      verdict: 'unknown',
      reason: 'advisories_unreachable',
      exitCode: 2,
      registry,
    });
    expect(report).not.toHaveProperty('counts');
  }, 120_000);

  it('says there is no verdict when no registry answers at all', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const saved = registry;
    registry = `http://127.0.0.1:${port}/`;
    try {
      const { code, report } = await auditDeps();
      expect(code).toBe(2);
      expect(report).toMatchObject({ verdict: 'unknown', reason: 'advisories_unreachable' });
    } finally {
      registry = saved;
    }
  }, 120_000);
});
