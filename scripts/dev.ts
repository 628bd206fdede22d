/**
 * `npm run audit:checkpoint` / `npm run limits:reset`: asks a running `npm start` (SF_URL, else
 * http://localhost:$PORT) to run an embedded-only helper (shared/runtime/dev-routes.ts). The
 * database belongs to that process (PGlite opens it once), so the work happens there.
 */
const route = process.argv[2];
if (!route) {
  process.stderr.write('usage: tsx scripts/dev.ts <run/<topic>|reset-limits>\n');
  process.exit(2);
}
const base = process.env.SF_URL ?? `http://localhost:${process.env.PORT ?? '8080'}`;
try {
  const response = await fetch(`${base}/api/dev/${route}`, { method: 'POST' });
  const text = await response.text();
  (response.ok ? process.stdout : process.stderr).write(`${text}\n`);
  process.exit(response.ok ? 0 : 1);
} catch {
  process.stderr.write(`Nothing answers on ${base}: start it with npm start (or set SF_URL / PORT).\n`);
  process.exit(1);
}
