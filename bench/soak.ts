import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runSoak } from './lib/soak.js';

/**
 * `npm run soak -- --minutes 5 [--url http://127.0.0.1:8080] [--connections 8]`: the mixed soak
 * (bench/lib/soak.ts). Prints a line every 10 s and the per-route table at the end, writes
 * bench/results/soak.md, and exits 1 if any request failed or memory grew more than 10 % after
 * the warm-up.
 */
const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '5' },
    seconds: { type: 'string' },
    url: { type: 'string' },
    connections: { type: 'string', default: '8' },
    'logins-per-second': { type: 'string' },
    out: { type: 'string' },
  },
});
const seconds = values.seconds ? Number(values.seconds) : Number(values.minutes) * 60;
if (!Number.isFinite(seconds) || seconds < 20) throw new Error('--minutes/--seconds: at least 20 seconds');

const report = await runSoak({
  seconds,
  connections: Number(values.connections),
  ...(values.url ? { url: values.url } : {}),
  ...(values['logins-per-second'] ? { loginsPerSecond: Number(values['logins-per-second']) } : {}),
});
process.stdout.write(`\n${report.markdown}`);
// One results file per engine, so a PostgreSQL run does not replace the PGlite one.
const out =
  values.out ??
  join(import.meta.dirname, 'results', report.engine === 'PostgreSQL' ? 'soak-postgres.md' : 'soak.md');
mkdirSync(join(out, '..'), { recursive: true });
writeFileSync(out, report.markdown);
const flat = report.memoryOf === 'client' || (report.rssGrowth <= 0.1 && report.heapGrowth <= 0.1);
if (report.errors > 0 || !flat) {
  process.stderr.write(
    `soak failed: ${report.errors} errors, RSS ${report.rssGrowth}, heap ${report.heapGrowth}\n`,
  );
  process.exit(1);
}
process.exit(0);
