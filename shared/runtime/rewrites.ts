import { readFileSync } from 'node:fs';
import picomatch from 'picomatch';
import { z } from 'zod';

/**
 * The Firebase Hosting rewrite table (firebase.json), read by the local gateway so it routes
 * `/api/<unit>/...` exactly as Hosting does in production: first matching glob wins.
 */
const firebaseSchema = z.object({
  hosting: z.object({
    rewrites: z.array(
      z.union([
        z.object({
          source: z.string(),
          function: z.union([
            z.string(),
            z.object({ functionId: z.string(), region: z.string().optional() }),
          ]),
        }),
        // The console's SPA fallback (`**` → /index.html); the gateway serves web/dist itself.
        z.object({ source: z.string(), destination: z.string() }),
      ]),
    ),
  }),
});

export interface Rewrite {
  source: string;
  unit: string;
  matches: (path: string) => boolean;
}

export function loadRewrites(file = new URL('../../firebase.json', import.meta.url)): Rewrite[] {
  const config = firebaseSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
  return config.hosting.rewrites.flatMap((rewrite) =>
    'function' in rewrite
      ? [
          {
            source: rewrite.source,
            unit: typeof rewrite.function === 'string' ? rewrite.function : rewrite.function.functionId,
            matches: picomatch(rewrite.source, { dot: true }),
          },
        ]
      : [],
  );
}

export function unitFor(rewrites: Rewrite[], path: string): string | undefined {
  return rewrites.find((rewrite) => rewrite.matches(path))?.unit;
}
