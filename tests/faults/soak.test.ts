import { describe, expect, it } from 'vitest';
import { runSoak } from '../../bench/lib/soak.js';

/**
 * The soak of `npm run soak`, for 60 s on the in-process runtime (PGlite, or PostgreSQL with
 * DATABASE_URL): the same mix and the same bar — no failed request, memory flat (≤ 10 % growth
 * after the warm-up, measured after a forced GC).
 */
describe('soak: a minute of mixed load', () => {
  it('answers every request as expected and keeps memory flat', async () => {
    const lines: string[] = [];
    const report = await runSoak({
      seconds: 60,
      connections: 6,
      pgliteInMemory: true,
      print: (line) => lines.push(line),
    });
    const summary = `${lines.join('\n')}\n${report.markdown}`;
    expect(report.errors, summary).toBe(0);
    expect(report.errorSamples, summary).toEqual([]);
    // Every part of the mix ran.
    const routes = new Set(report.routes.map((r) => r.route));
    for (const route of [
      'GET /api/sessions/current',
      'POST /api/keys/verify',
      'GET /api/orgs/:orgId/members',
      'POST /api/recordings/:id/frames',
      'POST /api/orgs/:orgId/keys',
      'POST /api/login',
    ]) {
      expect(routes.has(route), `${route} in\n${summary}`).toBe(true);
    }
    expect(report.memoryOf).toBe('server');
    expect(
      report.checkpoints.filter((c) => c.atSeconds > report.warmupSeconds).length,
    ).toBeGreaterThanOrEqual(2);
    expect(report.rssGrowth, summary).toBeLessThanOrEqual(0.1);
    expect(report.heapGrowth, summary).toBeLessThanOrEqual(0.1);
    for (const point of report.checkpoints) expect(Number.isFinite(point.loopP99Ms)).toBe(true);
  }, 240_000);
});
