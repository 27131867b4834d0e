import { AppError } from '../errors/app-error.ts';

/** How many hits a key may make within a window. */
export interface RateRule {
  limit: number;
  windowMs: number;
}

/** In-memory sliding-window limiter (per server process; see docs/embedding.md, "Rate limits"). */
export interface RateLimiter {
  /** Counts one hit for `key`; throws RATE_LIMITED with a Retry-After header when the rule is exceeded (the refused hit is not counted). */
  take(key: string, rule: RateRule, what: string): void;
}

/** Creates a sliding-window-log limiter; `now` is injectable for tests. */
export function createRateLimiter(options: { now?: () => number } = {}): RateLimiter {
  const now = options.now ?? Date.now;
  const hits = new Map<string, { times: number[]; windowMs: number }>();
  let lastSweep = now();

  // Drops keys idle for longer than their window, so memory follows active callers only.
  const sweep = (at: number) => {
    if (at - lastSweep < 60_000) return;
    lastSweep = at;
    for (const [key, entry] of hits) if ((entry.times.at(-1) ?? 0) <= at - entry.windowMs) hits.delete(key);
  };

  return {
    take(key, rule, what) {
      const at = now();
      sweep(at);
      let entry = hits.get(key);
      if (!entry) {
        entry = { times: [], windowMs: rule.windowMs };
        hits.set(key, entry);
      }
      entry.windowMs = rule.windowMs;
      const since = at - rule.windowMs;
      let expired = 0;
      while (expired < entry.times.length && entry.times[expired]! <= since) expired++;
      if (expired > 0) entry.times.splice(0, expired);
      if (entry.times.length >= rule.limit) {
        const freeAt = entry.times[entry.times.length - rule.limit]! + rule.windowMs;
        const retryAfterSeconds = Math.max(1, Math.ceil((freeAt - at) / 1000));
        throw new AppError('RATE_LIMITED', `Too many ${what}: the limit is ${rule.limit} per ${Math.round(rule.windowMs / 1000)}s; retry in ${retryAfterSeconds}s`, {
          headers: { 'Retry-After': String(retryAfterSeconds) },
        });
      }
      entry.times.push(at);
    },
  };
}
