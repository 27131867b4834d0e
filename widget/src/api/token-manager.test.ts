import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createTokenManager, NoTokenError, parseJwtExpiry } from './token-manager.ts';

/** An unsigned JWT with the given `exp` (seconds); the widget never verifies signatures. */
function makeJwt(expSeconds: number, tag = 'a'): string {
  const encode = (value: object) => btoa(JSON.stringify(value)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
  return `eyJ${encode({ alg: 'HS256' }).slice(3)}.${encode({ exp: expSeconds, sub: tag })}.sig`;
}

describe('parseJwtExpiry', () => {
  it('reads exp in milliseconds and tolerates garbage', () => {
    expect(parseJwtExpiry(makeJwt(1_000))).toBe(1_000_000);
    expect(parseJwtExpiry('not-a-jwt')).toBeUndefined();
    expect(parseJwtExpiry('a.%%%.b')).toBeUndefined();
  });
});

describe('createTokenManager', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(0);
  });
  afterEach(() => vi.useRealTimers());

  it('refreshes about 60 s before the token expires', async () => {
    const fetchToken = vi.fn(async () => makeJwt(7200, 'fresh'));
    const tokens = createTokenManager({ token: makeJwt(3600), fetchToken });
    await vi.advanceTimersByTimeAsync(3_539_000);
    expect(fetchToken).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(fetchToken).toHaveBeenCalledTimes(1);
    expect(await tokens.get()).toBe(makeJwt(7200, 'fresh'));
    tokens.dispose();
  });

  it('fetches a token when none was given and shares concurrent refreshes', async () => {
    const fetchToken = vi.fn(async () => makeJwt(3600));
    const tokens = createTokenManager({ fetchToken });
    const [a, b] = await Promise.all([tokens.get(), tokens.refresh()]);
    expect(a).toBe(b);
    expect(fetchToken).toHaveBeenCalledTimes(1);
    tokens.dispose();
  });

  it('refreshes on get() when the held token is about to expire', async () => {
    const fetchToken = vi.fn(async () => makeJwt(7200));
    const tokens = createTokenManager({ token: makeJwt(30), fetchToken });
    expect(await tokens.get()).toBe(makeJwt(7200));
    tokens.dispose();
  });

  it('rejects with NoTokenError when there is no token and no fetchToken, or fetchToken fails', async () => {
    await expect(createTokenManager({}).get()).rejects.toBeInstanceOf(NoTokenError);
    const failing = createTokenManager({ fetchToken: async () => Promise.reject(new Error('backend down')) });
    await expect(failing.get()).rejects.toBeInstanceOf(NoTokenError);
    const empty = createTokenManager({ fetchToken: async () => '' });
    await expect(empty.get()).rejects.toBeInstanceOf(NoTokenError);
  });

  it('stops its refresh timer on dispose', async () => {
    const fetchToken = vi.fn(async () => makeJwt(7200));
    const tokens = createTokenManager({ token: makeJwt(120), fetchToken });
    tokens.dispose();
    await vi.advanceTimersByTimeAsync(200_000);
    expect(fetchToken).not.toHaveBeenCalled();
  });
});
