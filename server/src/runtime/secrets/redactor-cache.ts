import { createHash } from 'node:crypto';
import { createRedactor, type Redactor } from './create-redactor.ts';

/** Secret characters the cached redactors may cover together (each costs about 2 KB of automaton). */
const MAX_CACHED_SECRET_CHARS = 64 * 1024;

/**
 * Redactors built once per set of secret values and reused: an artifact listing or download of a task
 * with 8 KB of secrets used to rebuild its automaton (13 MB, 40 ms) on every request, so a few hundred
 * parallel requests took the server's memory and event loop (red team). Least recently used first out,
 * bounded by the secret characters the cached redactors cover.
 */
export function createRedactorCache(maxSecretChars = MAX_CACHED_SECRET_CHARS) {
  const cache = new Map<string, { redactor: Redactor; chars: number }>();
  let cachedChars = 0;
  return {
    get(values: readonly string[]): Redactor {
      const key = createHash('sha256').update(JSON.stringify([...values].sort())).digest('hex');
      const hit = cache.get(key);
      if (hit) {
        cache.delete(key);
        cache.set(key, hit);
        return hit.redactor;
      }
      const entry = { redactor: createRedactor([...values]), chars: values.reduce((sum, value) => sum + value.length, 0) };
      cache.set(key, entry);
      cachedChars += entry.chars;
      for (const [oldest, old] of cache) {
        if (cachedChars <= maxSecretChars || oldest === key) break;
        cache.delete(oldest);
        cachedChars -= old.chars;
      }
      return entry.redactor;
    },
  };
}

/** The process's cache (artifact listings and downloads). */
export const redactorCache = createRedactorCache();
