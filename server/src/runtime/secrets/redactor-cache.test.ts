import { describe, expect, it } from 'vitest';
import { createRedactorCache } from './redactor-cache.ts';

describe('createRedactorCache', () => {
  it('builds a redactor once per set of values, whatever their order, and it redacts them', () => {
    const cache = createRedactorCache();
    const first = cache.get(['token-one-123', 'token-two-456']);
    expect(cache.get(['token-two-456', 'token-one-123'])).toBe(first);
    expect(first.redact('a token-one-123 b')).toBe('a [REDACTED] b');
  });

  it('drops the least recently used redactors past its budget of secret characters', () => {
    const cache = createRedactorCache(40);
    const a = cache.get(['a'.repeat(20)]);
    const b = cache.get(['b'.repeat(20)]);
    expect(cache.get(['a'.repeat(20)])).toBe(a);
    cache.get(['c'.repeat(20)]);
    expect(cache.get(['a'.repeat(20)])).toBe(a);
    expect(cache.get(['b'.repeat(20)])).not.toBe(b);
  });
});
