import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Shared pieces of every benchmark script: timing, percentiles, the printed table, the results file. */
export function percentile(sortedMs: number[], p: number): number {
  if (sortedMs.length === 0) return Number.NaN;
  const index = Math.min(sortedMs.length - 1, Math.max(0, Math.ceil((p / 100) * sortedMs.length) - 1));
  return sortedMs[index] ?? Number.NaN;
}

/** Runs `fn` `iterations` times (after `warmup` runs) and returns each run's duration in ms, sorted. */
export async function sample(
  fn: () => Promise<unknown> | unknown,
  iterations: number,
  warmup = Math.min(20, iterations),
): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const start = performance.now();
    await fn();
    times.push(performance.now() - start);
  }
  return times.sort((a, b) => a - b);
}

export type Row = Record<string, string | number>;

export function markdownTable(rows: Row[]): string {
  if (rows.length === 0) return '';
  const columns = Object.keys(rows[0]!);
  const format = (value: string | number | undefined) =>
    typeof value === 'number'
      ? Number.isInteger(value)
        ? String(value)
        : value.toFixed(value < 10 ? 3 : 1)
      : (value ?? '');
  return [
    `| ${columns.join(' | ')} |`,
    `| ${columns.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${columns.map((c) => format(row[c])).join(' | ')} |`),
  ].join('\n');
}

/**
 * Prints a benchmark's section and writes it to bench/results/<name>.md; `npm run bench`
 * gathers every section into bench/RESULTS.md.
 */
export function report(name: string, title: string, notes: string[], rows: Row[]): void {
  const section = [`## ${title}`, '', ...notes.map((n) => `${n}`), '', markdownTable(rows), ''].join('\n');
  process.stdout.write(`${section}\n`);
  const dir = join(import.meta.dirname, '..', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.md`), section);
}

export function machineLine(): string {
  return `Node ${process.version}, ${new Date().toISOString().slice(0, 10)}, ${process.env.DATABASE_URL ? 'PostgreSQL from DATABASE_URL and PGlite' : 'PGlite (set DATABASE_URL to add PostgreSQL)'}`;
}
