import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { throttledRoutes } from '../../scripts/infra-routes.js';
import { normalizedPath } from '../../shared/http/path.js';

const sample = (path: string) => path.replace(/:[A-Za-z]+/g, 'x1');
const hclString = (file: string, pattern: RegExp) => {
  const text = readFileSync(new URL(`../../infra/${file}`, import.meta.url), 'utf8');
  const match = pattern.exec(text);
  if (!match?.[1]) throw new Error(`${pattern} not found in infra/${file}`);
  return JSON.parse(match[1]) as string;
};
/** The rate rule's path pattern (generated) and the deny rule for paths the application resolves. */
const throttled = () =>
  new RegExp(hclString('edge-routes.tf', /throttled_path_regex\s*=\s*("(?:[^"\\]|\\.)*")/));
const refused = () => {
  const expression = hclString('armor.tf', /expression\s*=\s*("request\.path\.matches\((?:[^"\\]|\\.)*")/);
  const source = /^request\.path\.matches\('\(\?i\)(.*)'\)$/.exec(expression)?.[1];
  if (!source) throw new Error(`unexpected expression ${expression}`);
  return new RegExp(source, 'i');
};

/**
 * The application resolves dot segments and reads a backslash as a slash before it routes, so
 * `POST /api/login/passkey\options` is the passkey sign-in route while Cloud Armor matches the raw
 * path. Every spelling the application routes to a throttled route must either be refused at the
 * edge (the dot-segment rule) or count against the edge throttle: otherwise a client spelling its
 * path so is never banned at the edge.
 */
describe('edge throttle and path spellings the application resolves', () => {
  const spellings = (path: string) => {
    const parts = path.split('/');
    const last = parts.pop() ?? '';
    const parent = parts.join('/');
    return [
      path,
      `${path}/`,
      `${path}/.`,
      `${path}/%2e`,
      `${parent}/x/../${last}`,
      `${parent}/x/%2e%2e/${last}`,
      `${parent}/x/.%2E/${last}`,
      `${parent}\\${last}`,
      `${parent}/x\\..\\${last}`,
      `${parent}\\.\\${last}`,
    ];
  };

  it('every spelling that reaches a throttled route is refused or throttled at the edge', () => {
    for (const route of throttledRoutes()) {
      const path = sample(route.path);
      for (const spelling of spellings(path)) {
        // The premise: the application answers this spelling as the throttled route.
        expect(normalizedPath(spelling), spelling).toBe(path);
        expect(refused().test(spelling) || throttled().test(spelling), spelling).toBe(true);
      }
    }
  });
});
