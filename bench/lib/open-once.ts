import { openDatabaseFile } from '../../shared/signals/geoip.js';

/**
 * Opens one database file once in a fresh process and prints the milliseconds it took: what an
 * instance pays, run by signals.bench.ts with and without glibc's huge-page tunable.
 */
const file = process.argv[2];
if (!file) throw new Error('usage: open-once.ts <file.mmdb>');
const t0 = performance.now();
await openDatabaseFile(file);
process.stdout.write(`${JSON.stringify(performance.now() - t0)}\n`);
