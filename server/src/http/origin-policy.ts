import { isOriginAllowed } from '../services/widget-apps/origin-pattern.ts';

/** The union of every widget app's allowed origins, cached: CORS preflights cannot know the app yet. */
export interface OriginPolicy {
  /**
   * Whether any active widget app allows this Origin. An unknown origin waits for a fresh load unless
   * `waitOnMiss` is false (actual requests: their preflight has already loaded the set).
   */
  allowsAny(origin: string, options?: { waitOnMiss?: boolean }): Promise<boolean>;
  /** Forgets the cached set (called when this process creates or revokes an app). */
  invalidate(): void;
}

/**
 * Caches the origin set for `maxAgeMs`. Apps may be created by another process (the CLI, another
 * server), so an origin that is not in the set waits for a fresh load before it is refused. Those loads
 * are shared and at most one per `missRefreshMs`, so unknown origins cannot flood the database.
 */
export function createOriginPolicy(options: {
  loadPatterns: () => Promise<string[]>;
  now?: () => number;
  maxAgeMs?: number;
  missRefreshMs?: number;
}): OriginPolicy {
  const now = options.now ?? Date.now;
  const maxAgeMs = options.maxAgeMs ?? 30_000;
  const missRefreshMs = options.missRefreshMs ?? 1_000;
  let patterns: string[] = [];
  let loadedAt = Number.NEGATIVE_INFINITY;
  let loading: Promise<void> | undefined;
  let refreshing: Promise<void> | undefined;

  const reload = () => {
    loading ??= options
      .loadPatterns()
      .then((loaded) => {
        patterns = loaded;
        loadedAt = now();
      })
      .finally(() => {
        loading = undefined;
      });
    return loading;
  };

  // One shared reload, no sooner than missRefreshMs after the previous one.
  const refreshSoon = () => {
    refreshing ??= (async () => {
      const wait = loadedAt + missRefreshMs - now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait).unref());
      await reload();
    })().finally(() => {
      refreshing = undefined;
    });
    return refreshing;
  };

  return {
    async allowsAny(origin, { waitOnMiss = true } = {}) {
      if (now() - loadedAt > maxAgeMs) await reload();
      if (isOriginAllowed(patterns, origin)) return true;
      if (!waitOnMiss) return false;
      await refreshSoon();
      return isOriginAllowed(patterns, origin);
    },
    invalidate() {
      loadedAt = Number.NEGATIVE_INFINITY;
    },
  };
}
