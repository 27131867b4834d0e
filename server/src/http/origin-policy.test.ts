import { describe, expect, it } from 'vitest';
import { createOriginPolicy } from './origin-policy.ts';

function setup() {
  let now = 0;
  let patterns = ['https://shop.example.com'];
  let loads = 0;
  const policy = createOriginPolicy({
    loadPatterns: async () => {
      loads++;
      return patterns;
    },
    now: () => now,
    maxAgeMs: 30_000,
    missRefreshMs: 2_000,
  });
  return {
    policy,
    advance: (ms: number) => (now += ms),
    setPatterns: (next: string[]) => (patterns = next),
    loads: () => loads,
  };
}

describe('createOriginPolicy', () => {
  it('loads once and answers from the cache', async () => {
    const { policy, loads } = setup();
    expect(await policy.allowsAny('https://shop.example.com')).toBe(true);
    expect(await policy.allowsAny('https://shop.example.com')).toBe(true);
    expect(loads()).toBe(1);
  });

  it('reloads on an unknown origin at most once per missRefreshMs (an app created by another process)', async () => {
    const { policy, advance, setPatterns, loads } = setup();
    await policy.allowsAny('https://shop.example.com');
    setPatterns(['https://shop.example.com', 'https://new.example.com']);
    expect(await policy.allowsAny('https://new.example.com')).toBe(false);
    expect(await policy.allowsAny('https://evil.example.net')).toBe(false);
    expect(loads()).toBe(1);
    advance(2_001);
    expect(await policy.allowsAny('https://new.example.com')).toBe(true);
    expect(loads()).toBe(2);
  });

  it('drops revoked origins once the cache is older than maxAgeMs', async () => {
    const { policy, advance, setPatterns } = setup();
    await policy.allowsAny('https://shop.example.com');
    setPatterns([]);
    expect(await policy.allowsAny('https://shop.example.com')).toBe(true);
    advance(30_001);
    expect(await policy.allowsAny('https://shop.example.com')).toBe(false);
  });

  it('reloads at once after invalidate()', async () => {
    const { policy, setPatterns, loads } = setup();
    await policy.allowsAny('https://shop.example.com');
    setPatterns(['https://*.example.org']);
    policy.invalidate();
    expect(await policy.allowsAny('https://a.example.org')).toBe(true);
    expect(loads()).toBe(2);
  });

  it('shares one load between concurrent callers', async () => {
    const { policy, loads } = setup();
    await Promise.all([policy.allowsAny('https://shop.example.com'), policy.allowsAny('https://shop.example.com')]);
    expect(loads()).toBe(1);
  });
});
