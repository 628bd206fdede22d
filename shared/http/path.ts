/**
 * The path we route and authorize on: dot segments resolved the way URL parsing resolves them
 * (also in their percent-encoded forms), so `/api/health/../orgs/x` is `/api/orgs/x` everywhere.
 * Returns null for a path that cannot be decoded.
 */
export function normalizedPath(rawUrl: string): string | null {
  // Most requests name a plain path (letters, digits, '/', '-', '_', no dots, escapes or
  // backslashes), which URL parsing would return unchanged: skip the parser for those.
  const query = rawUrl.indexOf('?');
  const plain = query === -1 ? rawUrl : rawUrl.slice(0, query);
  if (PLAIN_PATH.test(plain)) {
    return plain.length > 1 && plain.endsWith('/') ? plain.slice(0, -1) : plain;
  }
  try {
    const pathname = new URL(`http://localhost${rawUrl.startsWith('/') ? '' : '/'}${rawUrl}`).pathname;
    return pathname.length > 1 && pathname.endsWith('/') ? pathname.slice(0, -1) : pathname;
  } catch {
    return null;
  }
}

const PLAIN_PATH = /^\/[A-Za-z0-9/_-]*$/;

export interface CompiledPath {
  pattern: RegExp;
  names: string[];
}

export function compilePath(path: string): CompiledPath {
  const names: string[] = [];
  const source = path
    .split('/')
    .map((segment) => {
      if (segment.startsWith(':')) {
        names.push(segment.slice(1));
        return '([^/]+)';
      }
      return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return { pattern: new RegExp(`^${source}$`), names };
}

/** Matches and decodes parameters; a parameter that does not decode, or decodes to contain "/", is no match. */
export function matchPath(compiled: CompiledPath, path: string): Record<string, string> | null {
  const match = compiled.pattern.exec(path);
  if (!match) return null;
  const params: Record<string, string> = {};
  for (const [index, name] of compiled.names.entries()) {
    try {
      const value = decodeURIComponent(match[index + 1] ?? '');
      if (value.includes('/') || value.length === 0) return null;
      params[name] = value;
    } catch {
      return null;
    }
  }
  return params;
}
