import { AppError } from '../errors/app-error.ts';
import type { Principal } from '../services/tasks/principal.ts';
import { createKeyedCounts } from './keyed-counts.ts';
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
  const perCaller = createKeyedCounts();
  return {
    acquire(principal) {
      const key = principalKey(principal);
      if (perCaller.get(key) >= limits.maxPerCaller) {
        throw new AppError('RATE_LIMITED', `Too many uploads in progress for this caller (at most ${limits.maxPerCaller}); retry when one has finished`, {
          headers: { 'Retry-After': '5' },
        });
      }
      if (total >= limits.maxTotal) {
        throw new AppError('RATE_LIMITED', `Too many uploads in progress on this server (at most ${limits.maxTotal}); retry shortly`, { headers: { 'Retry-After': '5' } });
      }
      total += 1;
      perCaller.add(key, 1);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        total -= 1;
        perCaller.add(key, -1);
      };
    },
  };
}
