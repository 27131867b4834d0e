import { describe, expect, it } from 'vitest';
import { createRateLimiter } from './rate-limiter.ts';

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

function refusal(run: () => void) {
  try {
    run();
  } catch (error) {
    return error as { code: string; status: number; headers: Record<string, string>; message: string };
  }
  throw new Error('expected RATE_LIMITED');
}

describe('createRateLimiter', () => {
  const rule = { limit: 3, windowMs: 60_000 };

  it('allows up to the limit, then throws RATE_LIMITED with Retry-After in seconds', () => {
    const time = clock();
    const limiter = createRateLimiter({ now: time.now });
    for (let index = 0; index < 3; index++) {
      limiter.take('k', rule, 'things');
      time.advance(10_000);
    }
    const error = refusal(() => limiter.take('k', rule, 'things'));
    expect(error).toMatchObject({ code: 'RATE_LIMITED', status: 429 });
    // The first hit was 30 s ago, so a slot frees in 30 s.
    expect(error.headers['Retry-After']).toBe('30');
    expect(error.message).toMatch(/Too many things: the limit is 3 per 60s; retry in 30s/);
  });

  it('frees slots as the window slides, and does not count refused hits', () => {
    const time = clock();
    const limiter = createRateLimiter({ now: time.now });
    for (let index = 0; index < 3; index++) limiter.take('k', rule, 'things');
    for (let index = 0; index < 5; index++) refusal(() => limiter.take('k', rule, 'things'));
    time.advance(60_001);
    for (let index = 0; index < 3; index++) limiter.take('k', rule, 'things');
    refusal(() => limiter.take('k', rule, 'things'));
  });

  it('keeps keys apart', () => {
    const limiter = createRateLimiter({ now: clock().now });
    for (let index = 0; index < 3; index++) limiter.take('a', rule, 'things');
    refusal(() => limiter.take('a', rule, 'things'));
    expect(() => limiter.take('b', rule, 'things')).not.toThrow();
  });

  it('applies a lowered limit at once and never answers Retry-After below 1', () => {
    const time = clock();
    const limiter = createRateLimiter({ now: time.now });
    for (let index = 0; index < 3; index++) limiter.take('k', rule, 'things');
    time.advance(59_999);
    expect(refusal(() => limiter.take('k', { limit: 1, windowMs: 60_000 }, 'things')).headers['Retry-After']).toBe('1');
  });

  it('forgets idle keys after their window', () => {
    const time = clock();
    const limiter = createRateLimiter({ now: time.now });
    for (let index = 0; index < 3; index++) limiter.take('idle', rule, 'things');
    time.advance(120_000);
    limiter.take('other', rule, 'things');
    for (let index = 0; index < 3; index++) limiter.take('idle', rule, 'things');
  });
});
