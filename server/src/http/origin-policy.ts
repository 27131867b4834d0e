import { isOriginAllowed } from '../services/widget-apps/origin-pattern.ts';

/** The union of every widget app's allowed origins, cached: CORS preflights cannot know the app yet. */
export interface OriginPolicy {
  /** Whether any active widget app allows this Origin. */
  allowsAny(origin: string): Promise<boolean>;
  /** Forgets the cached set (called when this process creates or revokes an app). */
  invalidate(): void;
}

/**
 * Caches the origin set for `maxAgeMs`. Apps may be created by another process (the CLI, another
 * server), so an origin that is not in the set reloads it too, at most once per `missRefreshMs`.
 */
export function createOriginPolicy(options: {
  loadPatterns: () => Promise<string[]>;
  now?: () => number;
  maxAgeMs?: number;
  missRefreshMs?: number;
}): OriginPolicy {
  const now = options.now ?? Date.now;
  const maxAgeMs = options.maxAgeMs ?? 30_000;
  const missRefreshMs = options.missRefreshMs ?? 2_000;
  let patterns: string[] = [];
  let loadedAt = Number.NEGATIVE_INFINITY;
  let loading: Promise<void> | undefined;

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

  return {
    async allowsAny(origin) {
      if (now() - loadedAt > maxAgeMs) await reload();
      if (isOriginAllowed(patterns, origin)) return true;
      if (now() - loadedAt <= missRefreshMs) return false;
      await reload();
      return isOriginAllowed(patterns, origin);
    },
    invalidate() {
      loadedAt = Number.NEGATIVE_INFINITY;
    },
  };
}
