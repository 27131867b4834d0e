import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createOriginPolicy } from './origin-policy.ts';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function setup() {
  let patterns = ['https://shop.example.com'];
  let loads = 0;
  const policy = createOriginPolicy({
    loadPatterns: async () => {
      loads++;
      return patterns;
    },
    maxAgeMs: 30_000,
    missRefreshMs: 1_000,
  });
  return { policy, setPatterns: (next: string[]) => (patterns = next), loads: () => loads };
}

describe('createOriginPolicy', () => {
  it('loads once and answers known origins from the cache', async () => {
    const { policy, loads } = setup();
    expect(await policy.allowsAny('https://shop.example.com')).toBe(true);
    expect(await policy.allowsAny('https://shop.example.com')).toBe(true);
    expect(loads()).toBe(1);
  });

  it('sees an app created by another process at once: an unknown origin waits for one fresh load', async () => {
    const { policy, setPatterns, loads } = setup();
    await policy.allowsAny('https://shop.example.com');
    setPatterns(['https://shop.example.com', 'https://new.example.com']);
    const answer = policy.allowsAny('https://new.example.com');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await answer).toBe(true);
    expect(loads()).toBe(2);
  });

  it('shares the delayed load between unknown origins, so they cost one query per missRefreshMs', async () => {
    const { policy, loads } = setup();
    await policy.allowsAny('https://shop.example.com');
    const answers = Promise.all(Array.from({ length: 50 }, (_, index) => policy.allowsAny(`https://evil-${index}.example.net`)));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await answers).toEqual(Array(50).fill(false));
    expect(loads()).toBe(2);
  });

  it('drops revoked origins once the cache is older than maxAgeMs', async () => {
    const { policy, setPatterns } = setup();
    await policy.allowsAny('https://shop.example.com');
    setPatterns([]);
    expect(await policy.allowsAny('https://shop.example.com')).toBe(true);
    await vi.advanceTimersByTimeAsync(30_001);
    const answer = policy.allowsAny('https://shop.example.com');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await answer).toBe(false);
  });

  it('answers an unknown origin from the cache without waiting when waitOnMiss is false', async () => {
    const { policy, loads } = setup();
    await policy.allowsAny('https://shop.example.com');
    expect(await policy.allowsAny('https://other.example.com', { waitOnMiss: false })).toBe(false);
    expect(loads()).toBe(1);
  });

  it('reloads at once after invalidate()', async () => {
    const { policy, setPatterns, loads } = setup();
    await policy.allowsAny('https://shop.example.com');
    setPatterns(['https://*.example.org']);
    policy.invalidate();
    expect(await policy.allowsAny('https://a.example.org')).toBe(true);
    expect(loads()).toBe(2);
  });

  it('shares one load between concurrent first callers', async () => {
    const { policy, loads } = setup();
    await Promise.all([policy.allowsAny('https://shop.example.com'), policy.allowsAny('https://shop.example.com')]);
    expect(loads()).toBe(1);
  });
});
