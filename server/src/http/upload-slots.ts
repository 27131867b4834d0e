import { AppError } from '../errors/app-error.ts';
import type { Principal } from '../services/tasks/principal.ts';
import { principalKey } from './stream-slots.ts';

/**
 * Caps on multipart uploads in progress, per caller and in all. Each one may stage up to a workspace
 * quota on disk before it is placed; without a cap, one visitor's parallel uploads fill the disk (red team).
 */
export interface UploadSlots {
  /** Takes a slot or throws 429 RATE_LIMITED; the returned release is idempotent. */
  acquire(principal: Principal): () => void;
}

export function createUploadSlots(limits: { maxPerCaller: number; maxTotal: number }): UploadSlots {
  let total = 0;
  const perCaller = new Map<string, number>();
  return {
    acquire(principal) {
      const key = principalKey(principal);
      const mine = perCaller.get(key) ?? 0;
      if (mine >= limits.maxPerCaller) {
        throw new AppError('RATE_LIMITED', `Too many uploads in progress for this caller (at most ${limits.maxPerCaller}); retry when one has finished`, {
          headers: { 'Retry-After': '5' },
        });
      }
      if (total >= limits.maxTotal) {
        throw new AppError('RATE_LIMITED', `Too many uploads in progress on this server (at most ${limits.maxTotal}); retry shortly`, { headers: { 'Retry-After': '5' } });
      }
      total += 1;
      perCaller.set(key, mine + 1);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        total -= 1;
        const left = (perCaller.get(key) ?? 1) - 1;
        if (left > 0) perCaller.set(key, left);
        else perCaller.delete(key);
      };
    },
  };
}
