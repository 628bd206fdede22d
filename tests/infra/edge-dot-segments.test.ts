import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { allRoutes } from '../../functions/meta/all-routes.js';
import { throttledRoutes } from '../../scripts/infra-routes.js';
import { normalizedPath } from '../../shared/http/path.js';

const sample = (path: string) => path.replace(/:[A-Za-z]+/g, 'x1');
const tf = readFileSync(new URL('../../infra/edge-routes.tf', import.meta.url), 'utf8');
const regex = () => {
  const match = /throttled_path_regex\s*=\s*("(?:[^"\\]|\\.)*")/.exec(tf);
  if (!match?.[1]) throw new Error('no throttled_path_regex in infra/edge-routes.tf');
  return new RegExp(JSON.parse(match[1]) as string);
};

/**
 * The application resolves dot segments (also percent-encoded, also after a backslash, which URL
 * parsing reads as a slash) before it routes, so `POST /api/login/.` is the login route. Cloud
 * Armor matches the raw path: unless every such spelling also counts against the edge throttle,
 * a client sends `/api/login/.` and is never banned at the edge.
 */
describe('edge throttle and dot segments', () => {
  const spellings = (path: string) => {
    const parts = path.split('/');
    const last = parts.pop() ?? '';
    const parent = parts.join('/');
    return [
      `${path}/.`,
      `${path}/./`,
      `${path}/%2e`,
      `${path}/%2E/`,
      `${parent}/x/../${last}`,
      `${parent}/x/%2e%2e/${last}`,
      `${parent}/x/.%2E/${last}`,
      `${parent}/./${last}`,
      `${path}\\.`,
      `${parent}\\${last}`,
    ];
  };

  it('every spelling the application routes to a throttled route is throttled at the edge', () => {
    for (const route of throttledRoutes()) {
      const path = sample(route.path);
      for (const spelling of spellings(path)) {
        // The premise: the application answers this spelling as the throttled route.
        expect(normalizedPath(spelling), spelling).toBe(path);
        expect(regex().test(spelling), spelling).toBe(true);
      }
    }
  });

  it('still throttles no other route as it is usually spelled', () => {
    const flagged = new Set(throttledRoutes().map((r) => r.path));
    for (const route of allRoutes().filter((r) => !flagged.has(r.path))) {
      expect(regex().test(sample(route.path)), route.path).toBe(false);
    }
  });
});
