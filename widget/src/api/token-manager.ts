/** Refresh this long before the JWT's `exp` (Sigmic widget behaviour). */
export const REFRESH_BEFORE_EXPIRY_MS = 60_000;
/** setTimeout's ceiling; longer delays fire immediately in browsers. */
const MAX_TIMER_MS = 2_147_483_647;

/** Raised when neither `token` nor `fetchToken()` yields a usable token. */
export class NoTokenError extends Error {
  constructor(cause?: unknown) {
    super('Concierge widget: no token. Set `token` or `fetchToken` in window.ConciergeChat.', { cause });
    this.name = 'NoTokenError';
  }
}

/** Reads `exp` (ms since epoch) from a JWT's payload without verifying it; undefined if absent. */
export function parseJwtExpiry(token: string): number | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(payload.length / 4) * 4, '='));
    const exp = (JSON.parse(json) as { exp?: unknown }).exp;
    return typeof exp === 'number' ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
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
  let token = options.token || undefined;
  let pending: Promise<string> | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let disposed = false;

  const schedule = (value: string) => {
    clearTimeout(timer);
    const expiry = parseJwtExpiry(value);
    if (expiry === undefined || !options.fetchToken || disposed) return;
    const delay = Math.min(Math.max(expiry - REFRESH_BEFORE_EXPIRY_MS - now(), 0), MAX_TIMER_MS);
    // A background refresh that fails leaves the old token; the next request retries.
    timer = setTimeout(() => void refresh().catch(() => undefined), delay);
  };

  const refresh = (): Promise<string> => {
    if (!options.fetchToken) return token ? Promise.resolve(token) : Promise.reject(new NoTokenError());
    pending ??= (async () => {
      try {
        const value = await options.fetchToken!();
        if (typeof value !== 'string' || value === '') throw new NoTokenError();
        token = value;
        schedule(value);
        return value;
      } catch (error) {
        throw error instanceof NoTokenError ? error : new NoTokenError(error);
      } finally {
        pending = null;
      }
    })();
    return pending;
  };

  const isFresh = (value: string) => {
    const expiry = parseJwtExpiry(value);
    return expiry === undefined || !options.fetchToken || expiry - now() > REFRESH_BEFORE_EXPIRY_MS;
  };

  if (token) schedule(token);

  return {
    get: () => (token && isFresh(token) ? Promise.resolve(token) : refresh()),
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
