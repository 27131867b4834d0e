import { describe, expect, it } from 'vitest';
import type { Principal } from '../services/tasks/principal.ts';
import { createStreamSlots } from './stream-slots.ts';

const key = (apiKeyId: string): Principal => ({ kind: 'api_key', project: 'p', apiKeyId, username: 'key:x' });
const visitor = (endUserId: string): Principal => ({ kind: 'widget', project: 'p', appId: 'app_1', endUserId });

describe('createStreamSlots', () => {
  it('refuses with 429 RATE_LIMITED past the streams per task', () => {
    const slots = createStreamSlots({ maxStreamsPerPrincipal: 10, maxStreamsPerTask: 2 });
    slots.acquire(key('a'), 't1');
    slots.acquire(key('b'), 't1');
    expect(() => slots.acquire(key('c'), 't1')).toThrow(expect.objectContaining({ code: 'RATE_LIMITED', status: 429 }));
    expect(() => slots.acquire(key('c'), 't2')).not.toThrow();
  });

  it('refuses past the streams per caller, counting widget end users apart', () => {
    const slots = createStreamSlots({ maxStreamsPerPrincipal: 2, maxStreamsPerTask: 10 });
    slots.acquire(visitor('u1'), 't1');
    slots.acquire(visitor('u1'), 't2');
    expect(() => slots.acquire(visitor('u1'), 't3')).toThrow(expect.objectContaining({ code: 'RATE_LIMITED' }));
    expect(() => slots.acquire(visitor('u2'), 't3')).not.toThrow();
  });

  it('gives a slot back once when released, even if release is called twice', () => {
    const slots = createStreamSlots({ maxStreamsPerPrincipal: 1, maxStreamsPerTask: 1 });
    const release = slots.acquire(key('a'), 't1');
    release();
    release();
    const again = slots.acquire(key('a'), 't1');
    expect(() => slots.acquire(key('a'), 't1')).toThrow(expect.objectContaining({ code: 'RATE_LIMITED' }));
    again();
  });
});
