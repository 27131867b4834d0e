import { type Kysely, sql } from 'kysely';
import { AppError } from '../errors/app-error.ts';
import type { Database } from '../store/schema.ts';

/** How many hits a key may make within a window. */
export interface RateRule {
  limit: number;
  windowMs: number;
}

/**
 * Sliding-window-log limiter kept in the database, so every server behind a load balancer counts the
 * same hits and gives the same answers as one server would (see docs/embedding.md, "Rate limits").
 */
export interface RateLimiter {
  /** Counts one hit for `key`; throws RATE_LIMITED with a Retry-After header when the rule is exceeded (the refused hit is not counted). */
  take(key: string, rule: RateRule, what: string): Promise<void>;
}

/** Expired hits of keys nobody uses any more are deleted at most this often. */
const SWEEP_EVERY_MS = 60_000;

/**
 * `kind` picks how concurrent takes of one key are serialised: a transaction-scoped advisory lock on
 * PostgreSQL (two servers counting the last free slot at once would both take it), SQLite's single
 * writer otherwise. `now` is injectable for tests.
 */
export function createRateLimiter(options: { db: Kysely<Database>; kind: 'sqlite' | 'postgres'; now?: () => number }): RateLimiter {
  const { db } = options;
  const now = options.now ?? Date.now;
  let lastSweep = 0;

  const sweep = async (at: number) => {
    if (at - lastSweep < SWEEP_EVERY_MS) return;
    lastSweep = at;
    await db.deleteFrom('rate_limit_hits').where('expires_at', '<=', at).execute();
  };

  return {
    async take(key, rule, what) {
      const at = now();
      await sweep(at);
      const since = at - rule.windowMs;
      const retryAfterSeconds = await db.transaction().execute(async (trx) => {
        if (options.kind === 'postgres') await sql`select pg_advisory_xact_lock(hashtextextended(${`rate:${key}`}, 0))`.execute(trx);
        const recent = await trx
          .selectFrom('rate_limit_hits')
          .select('at')
          .where('key', '=', key)
          .where('at', '>', since)
          .orderBy('at', 'desc')
          .limit(rule.limit)
          .execute();
        if (recent.length >= rule.limit) {
          // The oldest of the last `limit` hits leaves the window first.
          const freeAt = Number(recent.at(-1)!.at) + rule.windowMs;
          return Math.max(1, Math.ceil((freeAt - at) / 1000));
        }
        await trx.insertInto('rate_limit_hits').values({ key, at, expires_at: at + rule.windowMs }).execute();
        return undefined;
      });
      if (retryAfterSeconds !== undefined) {
        throw new AppError('RATE_LIMITED', `Too many ${what}: the limit is ${rule.limit} per ${Math.round(rule.windowMs / 1000)}s; retry in ${retryAfterSeconds}s`, {
          headers: { 'Retry-After': String(retryAfterSeconds) },
        });
      }
    },
  };
}
