import { AppError } from '../errors/app-error.ts';
import { createKeyedCounts } from './keyed-counts.ts';
import type { Principal } from '../services/tasks/principal.ts';

/** Caps on concurrent SSE streams: per caller (API key, or widget app + end user) and per task. */
export interface StreamSlots {
  /** Takes a slot for one stream or throws 429 RATE_LIMITED; the returned release is idempotent. */
  acquire(principal: Principal, taskId: string): () => void;
}

/** The caller a stream belongs to: an API key, or one end user of a widget app. */
export function principalKey(principal: Principal): string {
  return principal.kind === 'api_key' ? `key:${principal.apiKeyId}` : `widget:${principal.appId}:${principal.endUserId}`;
}

/** Counts open streams in this process; a slot is held from the handler's start until the stream closes. */
export function createStreamSlots(limits: { maxStreamsPerPrincipal: number; maxStreamsPerTask: number }): StreamSlots {
  const byPrincipal = createKeyedCounts();
  const byTask = createKeyedCounts();
  return {
    acquire(principal, taskId) {
      const key = principalKey(principal);
      if (byTask.get(taskId) >= limits.maxStreamsPerTask) {
        throw new AppError('RATE_LIMITED', `Too many open streams on task ${taskId} (at most ${limits.maxStreamsPerTask}); close one and retry`, { headers: { 'Retry-After': '5' } });
      }
      if (byPrincipal.get(key) >= limits.maxStreamsPerPrincipal) {
        throw new AppError('RATE_LIMITED', `Too many open streams for this caller (at most ${limits.maxStreamsPerPrincipal}); close one and retry`, { headers: { 'Retry-After': '5' } });
      }
      byTask.add(taskId, 1);
      byPrincipal.add(key, 1);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        byTask.add(taskId, -1);
        byPrincipal.add(key, -1);
      };
    },
  };
}
