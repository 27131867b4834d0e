import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createTokenManager, MIN_REFRESH_DELAY_MS, NoTokenError, parseJwtExpiry } from './token-manager.ts';

/** An unsigned JWT with the given `exp` (seconds); the widget never verifies signatures. */
function makeJwt(expSeconds: number, tag = 'a', iatSeconds?: number): string {
  const encode = (value: object) => btoa(JSON.stringify(value)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
  const claims = { exp: expSeconds, sub: tag, ...(iatSeconds === undefined ? {} : { iat: iatSeconds }) };
  return `eyJ${encode({ alg: 'HS256' }).slice(3)}.${encode(claims)}.sig`;
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

  it('refreshes on get() when the held token has expired', async () => {
    const fetchToken = vi.fn(async () => makeJwt(7200));
    const tokens = createTokenManager({ token: makeJwt(-10), fetchToken });
    expect(await tokens.get()).toBe(makeJwt(7200));
    expect(fetchToken).toHaveBeenCalledTimes(1);
    tokens.dispose();
  });

  it('refreshes a short-lived token halfway through its life instead of in a loop when it lives 60 s or less', async () => {
    const fetchToken = vi.fn(async () => {
      const nowSeconds = Date.now() / 1000;
      return makeJwt(nowSeconds + 60, `t${fetchToken.mock.calls.length}`, nowSeconds);
    });
    const tokens = createTokenManager({ fetchToken });
    await tokens.get();
    await vi.advanceTimersByTimeAsync(29_000);
    expect(fetchToken).toHaveBeenCalledTimes(1);
    await tokens.get();
    expect(fetchToken).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(fetchToken).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(fetchToken).toHaveBeenCalledTimes(2);
    tokens.dispose();
  });

  it('times the refresh from iat and exp when the visitor clock disagrees with the server', async () => {
    // The server's clock is ten days ahead of the visitor's: exp is far in the visitor's future.
    const serverNow = 864_000;
    const fetchToken = vi.fn(async () => makeJwt(serverNow + 7200, 'next', serverNow));
    const tokens = createTokenManager({ token: makeJwt(serverNow + 3600, 'first', serverNow), fetchToken });
    await vi.advanceTimersByTimeAsync(3_539_000);
    expect(fetchToken).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(fetchToken).toHaveBeenCalledTimes(1);
    tokens.dispose();
  });

  it('waits at least MIN_REFRESH_DELAY_MS between background refreshes of tokens that are already expired', async () => {
    const fetchToken = vi.fn(async () => makeJwt(Date.now() / 1000 - 1, 'stale', Date.now() / 1000 - 2));
    const tokens = createTokenManager({ fetchToken });
    await tokens.get();
    await vi.advanceTimersByTimeAsync(MIN_REFRESH_DELAY_MS - 1);
    expect(fetchToken).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(fetchToken).toHaveBeenCalledTimes(2);
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
