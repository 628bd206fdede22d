import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { bundleUnit, repoRoot } from '../scripts/build/bundle.js';
import { localUnits } from '../shared/runtime/gateway.js';
import { machineLine, percentile, type Row, report } from './lib/report.js';

/**
 * Per-unit bundle size and cold import time: a fresh `node` process imports dist/<unit>/index.js
 * and stops the clock once the unit's handler is in the Functions Framework registry (what a cold
 * Cloud Functions instance does before it can serve). Beside it, the same unit loaded from source
 * through tsx, as the local runtime does. Targets: ≤ 300 ms and ≤ 2 MB per unit.
 */
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const SOURCE_RUNS = Math.max(3, Math.floor(RUNS / 2));
const TARGET_MS = 300;
const TARGET_BYTES = 2 * 1024 * 1024;

/**
 * The Functions Framework loads its own modules (registry, Express server) before it imports the
 * function's module, so `frameworkFirst` imports them before starting the clock: what is left is
 * the unit's own load up to registering its handler. Without it, the framework's load counts too.
 */
const probe = (entry: string, unit: string, frameworkFirst: boolean) => `
${frameworkFirst ? "const { getFunction } = await import('@google-cloud/functions-framework/testing');" : ''}
const start = performance.now();
await import(${JSON.stringify(entry)});
${frameworkFirst ? '' : "const { getFunction } = await import('@google-cloud/functions-framework/testing');"}
if (typeof getFunction(${JSON.stringify(unit)}) !== 'function') throw new Error('not registered');
process.stdout.write(String(performance.now() - start));
`;

/** Median import-to-registration ms, and median whole-process ms (node start-up included). */
function coldStarts(args: string[], cwd: string, runs: number): { importMs: number; processMs: number } {
  const imports: number[] = [];
  const processes: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    const run = spawnSync(process.execPath, args, {
      cwd,
      encoding: 'utf8',
      env: { ...process.env, LOG_LEVEL: 'silent' },
    });
    processes.push(performance.now() - start);
    if (run.status !== 0) throw new Error(`cold start failed: ${run.stderr}`);
    imports.push(Number(run.stdout.trim()));
  }
  const median = (values: number[]) =>
    percentile(
      values.sort((a, b) => a - b),
      50,
    );
  return { importMs: median(imports), processMs: median(processes) };
}

const loadAtStart = loadavg()[0] ?? 0;
const units = localUnits().filter((unit) => existsSync(join(repoRoot, 'functions', unit, 'index.ts')));
const rows: Row[] = [];
for (const unit of units) {
  const bundle = await bundleUnit(unit, join(repoRoot, 'dist'));
  const bundled = coldStarts(
    ['--input-type=module', '-e', probe('./index.js', unit, true)],
    bundle.dir,
    RUNS,
  );
  const withFramework = coldStarts(
    ['--input-type=module', '-e', probe('./index.js', unit, false)],
    bundle.dir,
    RUNS,
  );
  const source = coldStarts(
    ['--import', 'tsx', '--input-type=module', '-e', probe(`./functions/${unit}/index.ts`, unit, true)],
    repoRoot,
    SOURCE_RUNS,
  );
  const withinTarget = bundled.importMs <= TARGET_MS && bundle.bundleBytes <= TARGET_BYTES;
  rows.push({
    unit,
    'bundle KiB': Math.round(bundle.bundleBytes / 1024),
    'installed deps': Object.keys(bundle.dependencies).length,
    'bundle import ms (median)': bundled.importMs,
    'same, framework load included (median)': withFramework.importMs,
    'bundle process ms (median)': withFramework.processMs,
    'source via tsx import ms (median)': source.importMs,
    'tsx / bundle': source.importMs / bundled.importMs,
    'within target': withinTarget ? 'yes' : 'NO',
  });
  process.stdout.write(`${unit}: ${JSON.stringify(rows.at(-1))}\n`);
}

report(
  'bundles',
  'Function bundles: size and cold import',
  [
    `${machineLine()}; ${RUNS} cold processes per bundle (${SOURCE_RUNS} from source), medians.`,
    'import ms: `import(dist/<unit>/index.js)` until the handler is registered with the Functions Framework,',
    'with the framework already loaded, as its loader has it when it imports the function (target column).',
    '"framework load included" starts the clock before the framework too (its registry and Express server);',
    'process ms is that whole process: node start-up, framework, unit, exit.',
    'Target: ≤ 300 ms import and ≤ 2 MB (2048 KiB) bundle per unit. Run as deployed: no --enable-source-maps',
    '(infra/functions.tf; loading the map would add ~120 ms, so stacks are mapped offline with npm run map-stack).',
    'Externals (Functions Framework, gRPC clients, PGlite) are installed beside the bundle, not counted in its size;',
    'the gRPC clients are imported lazily, so they do not cost cold start either.',
    `Machine load (1-minute average) ${loadAtStart.toFixed(1)} at start, ${(loadavg()[0] ?? 0).toFixed(1)} at end, on ${cpus().length} cores:`,
    'absolute times scale with it, so compare units and the tsx/bundle ratio within one run.',
  ],
  rows,
);
