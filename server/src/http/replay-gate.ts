import { createKeyedCounts } from './keyed-counts.ts';

/**
 * Lets a few stream catch-ups run at once. A catch-up holds a page of the task's log and the message it
 * is sending until a client takes them; a client that does not read holds them until it is dropped.
 * Without a cap, a few hundred such clients on tasks with large logs take the server's heap (red team).
 * Waiters are served in order, skipping callers that already have `maxPerCaller` catch-ups running, so
 * one caller's stalled streams cannot hold every turn.
 */
export interface ReplayGate {
  /** Waits for a turn; resolves with its release (idempotent), or with a no-op once `signal` aborts. */
  enter(caller: string, signal: AbortSignal): Promise<() => void>;
}

export function createReplayGate(limits: { maxConcurrent: number; maxPerCaller: number }): ReplayGate {
  let running = 0;
  const perCaller = createKeyedCounts();
  const waiting: Array<{ caller: string; admit: () => void }> = [];

  const canRun = (caller: string) => running < limits.maxConcurrent && perCaller.get(caller) < limits.maxPerCaller;
  const take = (caller: string) => {
    running += 1;
    perCaller.add(caller, 1);
  };
  const admitNext = () => {
    for (let index = 0; index < waiting.length && running < limits.maxConcurrent; ) {
      const waiter = waiting[index]!;
      if (!canRun(waiter.caller)) {
        index += 1;
        continue;
      }
      waiting.splice(index, 1);
      waiter.admit();
    }
  };
  const releaseFor = (caller: string) => {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      running -= 1;
      perCaller.add(caller, -1);
      admitNext();
    };
  };

  return {
    enter(caller, signal) {
      if (signal.aborted) return Promise.resolve(() => {});
      return new Promise((resolve) => {
        const waiter = {
          caller,
          admit: () => {
            signal.removeEventListener('abort', onAbort);
            take(caller);
            resolve(releaseFor(caller));
          },
        };
        const onAbort = () => {
          const index = waiting.indexOf(waiter);
          if (index >= 0) waiting.splice(index, 1);
          resolve(() => {});
        };
        signal.addEventListener('abort', onAbort, { once: true });
        waiting.push(waiter);
        admitNext();
      });
    },
  };
}
