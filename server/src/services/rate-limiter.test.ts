import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { openTestDatabase, type TestDatabase } from '../testing/open-test-database.ts';
import { createRateLimiter } from './rate-limiter.ts';

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

async function refusal(run: () => Promise<void>) {
  try {
    await run();
  } catch (error) {
    return error as { code: string; status: number; headers: Record<string, string>; message: string };
  }
  throw new Error('expected RATE_LIMITED');
}

describe.each(['sqlite', 'postgres'] as const)('createRateLimiter on %s', (kind) => {
  const rule = { limit: 3, windowMs: 60_000 };
  let testDatabase: TestDatabase;
  const limiterAt = (now: () => number) => createRateLimiter({ db: testDatabase.database.db, kind, now });
  beforeEach(async () => {
    testDatabase = await openTestDatabase(kind, inject('databaseUrl'));
  });
  afterEach(async () => {
    await testDatabase.close();
  });

  it('allows up to the limit, then throws RATE_LIMITED with Retry-After in seconds', async () => {
    const time = clock();
    const limiter = limiterAt(time.now);
    for (let index = 0; index < 3; index++) {
      await limiter.take('k', rule, 'things');
      time.advance(10_000);
    }
    const error = await refusal(() => limiter.take('k', rule, 'things'));
    expect(error).toMatchObject({ code: 'RATE_LIMITED', status: 429 });
    // The first hit was 30 s ago, so a slot frees in 30 s.
    expect(error.headers['Retry-After']).toBe('30');
    expect(error.message).toMatch(/Too many things: the limit is 3 per 60s; retry in 30s/);
  });

  it('frees slots as the window slides, and does not count refused hits', async () => {
    const time = clock();
    const limiter = limiterAt(time.now);
    for (let index = 0; index < 3; index++) await limiter.take('k', rule, 'things');
    for (let index = 0; index < 5; index++) await refusal(() => limiter.take('k', rule, 'things'));
    time.advance(60_001);
    for (let index = 0; index < 3; index++) await limiter.take('k', rule, 'things');
    await refusal(() => limiter.take('k', rule, 'things'));
  });

  it('keeps keys apart', async () => {
    const limiter = limiterAt(clock().now);
    for (let index = 0; index < 3; index++) await limiter.take('a', rule, 'things');
    await refusal(() => limiter.take('a', rule, 'things'));
    await expect(limiter.take('b', rule, 'things')).resolves.toBeUndefined();
  });

  it('applies a lowered limit at once and never answers Retry-After below 1', async () => {
    const time = clock();
    const limiter = limiterAt(time.now);
    for (let index = 0; index < 3; index++) await limiter.take('k', rule, 'things');
    time.advance(59_999);
    expect((await refusal(() => limiter.take('k', { limit: 1, windowMs: 60_000 }, 'things'))).headers['Retry-After']).toBe('1');
  });

  it('deletes the hits of idle keys once their window has passed', async () => {
    const time = clock();
    const limiter = limiterAt(time.now);
    for (let index = 0; index < 3; index++) await limiter.take('idle', rule, 'things');
    time.advance(120_000);
    await limiter.take('other', rule, 'things');
    const rows = await testDatabase.database.db.selectFrom('rate_limit_hits').select('key').execute();
    expect(rows.map((row) => row.key)).toEqual(['other']);
    for (let index = 0; index < 3; index++) await limiter.take('idle', rule, 'things');
  });

  it('counts the hits of every server: two limiters on one database share the limit, also when they race', async () => {
    const time = clock();
    // Two servers: each has its own limiter (and on PostgreSQL its own connections racing for the last slots).
    const first = limiterAt(time.now);
    const second = limiterAt(time.now);
    const outcomes = await Promise.allSettled(Array.from({ length: 12 }, (_, index) => (index % 2 ? first : second).take('shared', { limit: 5, windowMs: 60_000 }, 'things')));
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(5);
    expect(outcomes.filter((outcome) => outcome.status === 'rejected').every((outcome) => (outcome.reason as { code: string }).code === 'RATE_LIMITED')).toBe(true);
  });
});
