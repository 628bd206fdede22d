import picomatch from 'picomatch';
import { edgeRoutes } from './edge-routes.js';

/**
 * The edge route table (shared/runtime/edge-routes.ts) as matchers, read by the local gateway so it
 * routes `/api/<unit>/...` exactly as the load balancer's URL map does in production: first match wins.
 */
export interface Rewrite {
  source: string;
  unit: string;
  matches: (path: string) => boolean;
}

export function loadRewrites(routes = edgeRoutes): Rewrite[] {
  return routes.map((route) => ({
    source: route.source,
    unit: route.unit,
    matches: picomatch(route.source, { dot: true }),
  }));
}

export function unitFor(rewrites: Rewrite[], path: string): string | undefined {
  return rewrites.find((rewrite) => rewrite.matches(path))?.unit;
}
