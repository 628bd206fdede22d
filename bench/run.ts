import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * `npm run bench [name ...]`: runs each bench/<name>.bench.ts in its own process (one at a time,
 * so they do not disturb each other), then gathers bench/results/*.md into bench/RESULTS.md.
 * Set DATABASE_URL to measure PostgreSQL beside PGlite.
 */
const here = import.meta.dirname;
const wanted = process.argv.slice(2);
const scripts = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => wanted.length === 0 || wanted.includes(f.replace('.bench.ts', '')))
  .sort();

let failed = false;
for (const script of scripts) {
  process.stdout.write(`\n# ${script}\n`);
  const run = spawnSync(process.execPath, ['--import', 'tsx', join(here, script)], {
    stdio: 'inherit',
    env: process.env,
  });
  if (run.status !== 0) {
    failed = true;
    process.stderr.write(`${script} failed with status ${run.status}\n`);
  }
}

const resultsDir = join(here, 'results');
const sections = readdirSync(resultsDir)
  .filter((f) => f.endsWith('.md'))
  .sort()
  .map((f) => readFileSync(join(resultsDir, f), 'utf8').trim());
writeFileSync(
  join(here, 'RESULTS.md'),
  [
    '# Benchmark results',
    '',
    'Written by `npm run bench` (each section by its bench/<name>.bench.ts). Ratios are measured side by side in one run;',
    'absolute figures depend on the machine (these runs: a shared 2-core machine).',
    '',
    ...sections.flatMap((s) => [s, '']),
  ].join('\n'),
);
process.exit(failed ? 1 : 0);
