import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { auditVerdict } from './deps-audit/verdict.js';

/**
 * `npm run audit:deps [-- --out <file>]`: audits production dependencies (high and critical fail),
 * writes the JSON report (verdict + npm's own report) to the file, and exits 0 (pass), 1 (high or
 * critical found) or 2 (no verdict: registry unreachable or no report). The weekly Cloud Build
 * trigger (infra/dependency-audit.tf) keeps each report in a bucket for 30 days.
 */
const outIndex = process.argv.indexOf('--out');
const out = resolve(outIndex >= 0 ? (process.argv[outIndex + 1] ?? '') : 'reports/deps-audit.json');

const run = spawnSync('npm', ['audit', '--omit=dev', '--audit-level=high', '--json'], {
  encoding: 'utf8',
  maxBuffer: 64 * 1024 * 1024,
});
const stdout = run.stdout ?? '';
const verdict = auditVerdict(stdout);
let npmReport: unknown = null;
try {
  npmReport = JSON.parse(stdout);
} catch {
  npmReport = { stdout: stdout.slice(0, 10_000), stderr: (run.stderr ?? '').slice(0, 10_000) };
}
mkdirSync(dirname(out), { recursive: true });
writeFileSync(
  out,
  `${JSON.stringify({ generatedAt: new Date().toISOString(), verdict, npm: npmReport }, null, 2)}\n`,
);
const print = verdict.exitCode === 0 ? console.log : console.error;
print(`${verdict.message} Report: ${out}`);
process.exit(verdict.exitCode);
