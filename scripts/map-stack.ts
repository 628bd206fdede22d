import { readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { basename, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = join(import.meta.dirname, '..');

/**
 * Maps a stack trace from a deployed function back to the TypeScript sources.
 *
 * Functions run their minified bundle without `--enable-source-maps` (parsing a unit's ~7 MB map
 * costs ~120 ms of every cold start), so logged stacks point into dist/<unit>/index.js. The map is
 * built beside it; feed the stack to this script with the unit's dist folder:
 *
 *   npm run map-stack -- dist/login < stack.txt
 *
 * Frames in other files (node internals, installed packages) are printed unchanged.
 */
export function mapStack(stack: string, bundleDir: string): string {
  const map = new SourceMap(JSON.parse(readFileSync(join(bundleDir, 'index.js.map'), 'utf8')));
  // "at fn (file:///…/index.js:1:2345)" or "at file:///…/index.js:1:2345"
  return stack.replace(
    /((?:file:\/\/)?[^\s()]*index\.js):(\d+):(\d+)/g,
    (frame, file: string, line, column) => {
      if (basename(file) !== 'index.js') return frame;
      const entry = map.findEntry(Number(line) - 1, Number(column) - 1);
      if (!('originalSource' in entry) || !entry.originalSource) return frame;
      const original = entry.originalSource.startsWith('file:')
        ? fileURLToPath(entry.originalSource)
        : resolve(bundleDir, entry.originalSource);
      const source = relative(repoRoot, original);
      return `${source}:${entry.originalLine + 1}:${entry.originalColumn + 1}`;
    },
  );
}

if (import.meta.main) {
  const bundleDir = process.argv[2];
  if (!bundleDir) {
    process.stderr.write('usage: npm run map-stack -- dist/<unit> < stack.txt\n');
    process.exit(2);
  }
  process.stdout.write(mapStack(readFileSync(0, 'utf8'), bundleDir));
}
