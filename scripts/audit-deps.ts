import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { auditVerdict } from './deps-audit/verdict.js';

/**
 * `npm run audit:deps [-- --out <file>] [-- --registry <url>]`: audits production dependencies
 * (high and critical fail), writes the JSON report to the file, and exits 0 (`clean`), 1
 * (`vulnerable`: high or critical found) or 2 (`unknown`: no advisories endpoint answered, or no
 * report) — never 0 without a verdict. `--registry` sends the audit to that registry (one that
 * serves the bulk advisories endpoint) instead of npm's configured one. The weekly Cloud Build
 * trigger (infra/dependency-audit.tf) keeps each report in a bucket for 30 days.
 */
function option(name: string): string | null {
  const index = process.argv.indexOf(name);
  return index >= 0 ? (process.argv[index + 1] ?? null) : null;
}

const out = resolve(option('--out') ?? 'reports/deps-audit.json');
const registryOption = option('--registry');

const run = spawnSync(
  'npm',
  [
    ...['audit', '--omit=dev', '--audit-level=high', '--json'],
    ...(registryOption ? ['--registry', registryOption] : []),
  ],
  { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
);
const stdout = run.stdout ?? '';
const verdict = auditVerdict(stdout);
let npmReport: unknown = null;
try {
  npmReport = JSON.parse(stdout);
} catch {
  npmReport = { stdout: stdout.slice(0, 10_000), stderr: (run.stderr ?? '').slice(0, 10_000) };
}
const registry =
  registryOption ??
  spawnSync('npm', ['config', 'get', 'registry'], { encoding: 'utf8' }).stdout?.trim() ??
  null;
mkdirSync(dirname(out), { recursive: true });
writeFileSync(
  out,
  `${JSON.stringify({ generatedAt: new Date().toISOString(), registry, ...verdict, npm: npmReport }, null, 2)}\n`,
);
const print = verdict.exitCode === 0 ? console.log : console.error;
print(`${verdict.message} Report: ${out}`);
process.exit(verdict.exitCode);
