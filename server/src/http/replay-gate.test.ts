import { describe, expect, it } from 'vitest';
import { createReplayGate } from './replay-gate.ts';

const never = () => new AbortController().signal;
const settled = async <T>(promise: Promise<T>) => {
  let done = false;
  void promise.then(() => (done = true));
  await new Promise((resolve) => setImmediate(resolve));
  return done;
};

describe('createReplayGate', () => {
  it('admits at most maxConcurrent catch-ups and the next waiter when one leaves', async () => {
    const gate = createReplayGate({ maxConcurrent: 2, maxPerCaller: 2 });
    const first = await gate.enter('a', never());
    await gate.enter('b', never());
    const third = gate.enter('c', never());
    expect(await settled(third)).toBe(false);
    first();
    first();
    expect(await settled(third)).toBe(true);
  });

  it('lets another caller past one that already runs its share', async () => {
    const gate = createReplayGate({ maxConcurrent: 3, maxPerCaller: 1 });
    await gate.enter('greedy', never());
    const greedyAgain = gate.enter('greedy', never());
    const other = gate.enter('other', never());
    expect(await settled(greedyAgain)).toBe(false);
    expect(await settled(other)).toBe(true);
  });

  it('forgets a waiter whose client went away, without taking a turn', async () => {
    const gate = createReplayGate({ maxConcurrent: 1, maxPerCaller: 1 });
    const leave = await gate.enter('a', never());
    const controller = new AbortController();
    const gone = gate.enter('b', controller.signal);
    const next = gate.enter('c', never());
    controller.abort();
    expect(await settled(gone)).toBe(true);
    leave();
    expect(await settled(next)).toBe(true);
  });
});
