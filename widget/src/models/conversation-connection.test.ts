import { encodeSseEvent } from '@concierge/shared';
import { describe, expect, it, vi } from 'vitest';
import type { ApiClient } from '../api/api-client.ts';
import { createConversationConnection } from './conversation-connection.ts';
import { createConversationStore } from './conversation-store.ts';

const sse = (frames: string[]) =>
  new Response(
    new ReadableStream<Uint8Array>({
      start(controller) {
        for (const frame of frames) controller.enqueue(new TextEncoder().encode(frame));
        controller.close();
      },
    }),
    { status: 200 },
  );

const waitFor = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(check()).toBe(true);
};

function setup(authorisedFetch: ApiClient['authorisedFetch'], getTask: ApiClient['getTask'] = vi.fn()) {
  const store = createConversationStore({ requestFrame: (callback) => Number(setTimeout(callback)), cancelFrame: clearTimeout });
  const handlers = { onGone: vi.fn(), onUnavailable: vi.fn(), onError: vi.fn(), onSettled: vi.fn() };
  const api = { authorisedFetch, getTask } as unknown as ApiClient;
  const connection = createConversationConnection({ api, store, taskId: { peek: () => 't1' }, toErrorText: () => 'failed', ...handlers });
  return { store, connection, ...handlers };
}

describe('createConversationConnection', () => {
  it('starts a new conversation when the remembered task is gone', async () => {
    const fetch = vi.fn(async () => new Response(JSON.stringify({ success: false, error: { code: 'NOT_FOUND', message: 'Task t1 not found' } }), { status: 404 }));
    const { connection, onGone, store } = setup(fetch);
    connection.connect(false);
    await waitFor(() => onGone.mock.calls.length > 0);
    expect(store.current().phase).toBe('empty');
  });

  it('applies the history and settles when the server closes after an idle history_done', async () => {
    const user = { id: 'msg-1', role: 'user', content: 'Hi', createdAt: '' };
    const fetch = vi.fn(async () =>
      sse([encodeSseEvent('history_message', user, 2), encodeSseEvent('history_done', { messageCount: 1, isStreaming: false }, 2)]),
    );
    const getTask = vi.fn(async () => ({ id: 't1', status: 'completed' }) as never);
    const { connection, onSettled, store } = setup(fetch, getTask);
    store.dispatch({ type: 'phase', phase: 'loading' }, true);
    connection.connect(false);
    await waitFor(() => onSettled.mock.calls.length > 0);
    expect(store.current().messages.map((message) => message.content)).toEqual(['Hi']);
    expect(store.current().phase).toBe('idle');
    expect(store.current().lastSeq).toBe(2);
  });

  it('marks the conversation failed, in words, when the stream cannot be opened', async () => {
    const fetch = vi.fn(async () => new Response(JSON.stringify({ success: false, error: { code: 'FORBIDDEN', message: 'no' } }), { status: 403 }));
    const { connection, store } = setup(fetch);
    connection.connect(false);
    await waitFor(() => store.current().phase === 'failed');
    expect(store.current().error).toEqual({ message: 'failed', code: 'STREAM' });
    connection.dispose();
  });
});
