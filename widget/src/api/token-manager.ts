/** Refresh this long before the JWT's `exp` (Sigmic widget behaviour). */
export const REFRESH_BEFORE_EXPIRY_MS = 60_000;
/** setTimeout's ceiling; longer delays fire immediately in browsers. */
const MAX_TIMER_MS = 2_147_483_647;
/** A background refresh never runs sooner than this after the last one (a broken token cannot loop). */
export const MIN_REFRESH_DELAY_MS = 5_000;

/** Raised when neither `token` nor `fetchToken()` yields a usable token. */
export class NoTokenError extends Error {
  constructor(cause?: unknown) {
    super('Concierge widget: no token. Set `token` or `fetchToken` in window.ConciergeChat.', { cause });
    this.name = 'NoTokenError';
  }
}

/** Reads a numeric claim (seconds) of a JWT's payload as ms, without verifying it; undefined if absent. */
function readTime(token: string, claim: 'exp' | 'iat'): number | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(payload.length / 4) * 4, '='));
    const value = (JSON.parse(json) as Record<string, unknown>)[claim];
    return typeof value === 'number' ? value * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/** Reads `exp` (ms since epoch) from a JWT's payload without verifying it; undefined if absent. */
export function parseJwtExpiry(token: string): number | undefined {
  return readTime(token, 'exp');
}

export interface TokenManagerOptions {
  token?: string;
  fetchToken?: () => Promise<string> | string;
  now?: () => number;
}

/** Holds the widget JWT: hands it out, refreshes it before expiry and on demand (after a 401). */
export interface TokenManager {
  get(): Promise<string>;
  refresh(): Promise<string>;
  readonly canRefresh: boolean;
  dispose(): void;
}

/** Creates the token holder; refresh calls are shared so a burst of 401s fetches one token. */
export function createTokenManager(options: TokenManagerOptions): TokenManager {
  const now = options.now ?? Date.now;
  let token: string | undefined;
  let refreshAt = Number.POSITIVE_INFINITY;
  let pending: Promise<string> | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let disposed = false;

  const accept = (value: string) => {
    token = value;
    clearTimeout(timer);
    const expiry = parseJwtExpiry(value);
    const issuedAt = readTime(value, 'iat');
    const receivedAt = now();
    if (expiry === undefined) {
      refreshAt = Number.POSITIVE_INFINITY;
      return;
    }
    // The lifetime in the server's own clock (exp - iat) when it can: a visitor's clock that is off does not matter.
    const lifetime = expiry - (issuedAt ?? receivedAt);
    // 60 s before expiry, but never in the first half of a short token's life: a 1-minute token would loop.
    refreshAt = receivedAt + Math.max(lifetime - REFRESH_BEFORE_EXPIRY_MS, lifetime / 2);
    if (!options.fetchToken || disposed) return;
    const delay = Math.min(Math.max(refreshAt - receivedAt, MIN_REFRESH_DELAY_MS), MAX_TIMER_MS);
    // A background refresh that fails leaves the old token; the next request retries.
    timer = setTimeout(() => void refresh().catch(() => undefined), delay);
  };

  const refresh = (): Promise<string> => {
    if (!options.fetchToken) return token ? Promise.resolve(token) : Promise.reject(new NoTokenError());
    pending ??= (async () => {
      try {
        const value = await options.fetchToken!();
        if (typeof value !== 'string' || value === '') throw new NoTokenError();
        accept(value);
        return value;
      } catch (error) {
        throw error instanceof NoTokenError ? error : new NoTokenError(error);
      } finally {
        pending = null;
      }
    })();
    return pending;
  };

  if (options.token) accept(options.token);

  return {
    get: () => (token && (!options.fetchToken || now() < refreshAt) ? Promise.resolve(token) : refresh()),
    refresh,
    get canRefresh() {
      return options.fetchToken !== undefined;
    },
    dispose() {
      disposed = true;
      clearTimeout(timer);
    },
  };
}
