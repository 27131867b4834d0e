import type { Message } from '@concierge/shared';
import { describe, expect, it } from 'vitest';
import type { TaskStreamEvent } from '../api/task-stream.ts';
import { createConversationStore } from './conversation-store.ts';

const user: Message = { id: 'msg-1', role: 'user', content: 'Hi', createdAt: '2026-01-01T00:00:00.000Z' };
const event = (e: Omit<TaskStreamEvent, 'seq'>, seq?: number) => ({ type: 'event' as const, event: { ...e, seq } as TaskStreamEvent });

describe('createConversationStore', () => {
  it('derives busy, the streaming reply and the finished messages, painting once per frame', () => {
    const frames: (() => void)[] = [];
    const store = createConversationStore({ requestFrame: (callback) => frames.push(callback), cancelFrame: () => undefined });
    store.dispatch(event({ event: 'user_message', data: user }, 1));
    store.dispatch(event({ event: 'content', data: { text: 'Hel', isPartial: true } }, 2));
    expect(store.busy.value).toBe(false);
    expect(frames).toHaveLength(1);
    frames.shift()!();
    expect(store.busy.value).toBe(true);
    expect(store.streamingMessage.value?.content).toBe('Hel');
    expect(store.finishedMessages.value.map((m) => m.id)).toEqual(['msg-1']);
    store.dispatch(event({ event: 'done', data: { finalResponse: 'Hello' } }, 3), true);
    expect(store.busy.value).toBe(false);
    expect(store.streamingMessage.value).toBeNull();
    expect(store.finishedMessages.value.at(-1)?.content).toBe('Hello');
  });

  it('reports a failure no message shows (a stream that could not open), but not one a message already shows', () => {
    const store = createConversationStore();
    store.dispatch({ type: 'phase', phase: 'failed', error: { message: 'The conversation could not be loaded.', code: 'STREAM' } }, true);
    expect(store.unshownEnd.value).toEqual({ reason: 'failed', message: 'The conversation could not be loaded.' });
    store.dispatch({ type: 'reset' }, true);
    store.dispatch(event({ event: 'user_message', data: user }, 1), true);
    store.dispatch(event({ event: 'error', data: { message: 'Model down', code: 'MODEL_UNAVAILABLE' } }, 2), true);
    expect(store.phase.value).toBe('failed');
    expect(store.unshownEnd.value).toBeNull();
    expect(store.finishedMessages.value.at(-1)?.interrupted?.reason).toBe('failed');
  });
});
