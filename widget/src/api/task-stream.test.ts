import { encodeSseEvent } from '@concierge/shared';
import { describe, expect, it, vi } from 'vitest';
import { openTaskStream, parseStreamEvent, type TaskStreamEvent, toBackoffMs } from './task-stream.ts';

const sse = (frames: string[], keepOpen = false) =>
  new Response(
    new ReadableStream<Uint8Array>({
      start(controller) {
        const encoder = new TextEncoder();
        for (const frame of frames) controller.enqueue(encoder.encode(frame));
        if (!keepOpen) controller.close();
      },
    }),
    { status: 200, headers: { 'Content-Type': 'text/event-stream' } },
  );

const waitFor = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(check()).toBe(true);
};

describe('parseStreamEvent', () => {
  it('parses known events with their sequence and unwraps the {type,data} form', () => {
    expect(parseStreamEvent('content', '{"text":"a","isPartial":true}', '7')).toEqual({
      event: 'content',
      data: { text: 'a', isPartial: true },
      seq: 7,
    });
    expect(
      parseStreamEvent('tool_call', '{"type":"tool_call","data":{"callId":"c","toolName":"t","status":"executing","args":{}}}', undefined)
        ?.data,
    ).toEqual({ callId: 'c', toolName: 't', status: 'executing', args: {} });
  });

  it('ignores unknown events and bad JSON', () => {
    expect(parseStreamEvent('subagent_start', '{}', '1')).toBeUndefined();
    expect(parseStreamEvent('content', 'not json', '1')).toBeUndefined();
  });
});

describe('toBackoffMs', () => {
  it('grows exponentially with jitter and caps at 15 s', () => {
    expect(toBackoffMs(0, () => 1)).toBe(500);
    expect(toBackoffMs(3, () => 1)).toBe(4000);
    expect(toBackoffMs(20, () => 1)).toBe(15_000);
    expect(toBackoffMs(0, () => 0)).toBe(250);
  });
});

describe('openTaskStream', () => {
  it('reconnects after a drop with Last-Event-ID and delivers each event once', async () => {
    const fetch = vi
      .fn<(path: string, init?: RequestInit) => Promise<Response>>()
      .mockResolvedValueOnce(
        sse([
          encodeSseEvent('history_done', { messageCount: 1, isStreaming: true }),
          encodeSseEvent('content', { text: 'Hel', isPartial: true }, 1),
          encodeSseEvent('content', { text: 'lo', isPartial: true }, 2),
        ]),
      )
      .mockResolvedValueOnce(
        sse([
          ':heartbeat\n\n',
          encodeSseEvent('history_done', { messageCount: 1, isStreaming: true }),
          encodeSseEvent('content', { text: 'lo', isPartial: true }, 2),
          encodeSseEvent('content', { text: '!', isPartial: true }, 3),
          encodeSseEvent('done', { finalResponse: 'Hello!' }, 4),
        ]),
      );
    const events: TaskStreamEvent[] = [];
    const onEnd = vi.fn();
    const onConnect = vi.fn();
    openTaskStream({ taskId: 't1', authorisedFetch: fetch, onConnect, onEvent: (e) => events.push(e), onEnd, random: () => 0 });
    await waitFor(() => onEnd.mock.calls.length > 0);
    expect(onEnd).toHaveBeenCalledWith('terminal');
    expect(new Headers(fetch.mock.calls[0]![1]!.headers).get('Last-Event-ID')).toBeNull();
    expect(new Headers(fetch.mock.calls[1]![1]!.headers).get('Last-Event-ID')).toBe('2');
    expect(onConnect.mock.calls).toEqual([[false], [true]]);
    const text = events.flatMap((e) => (e.event === 'content' ? [e.data.text] : [])).join('');
    expect(text).toBe('Hello!');
  });

  it('retries after a network error and a 503, then stops for good on a 404', async () => {
    const fetch = vi
      .fn<(path: string, init?: RequestInit) => Promise<Response>>()
      .mockRejectedValueOnce(new TypeError('Failed to fetch'))
      .mockResolvedValueOnce(new Response('{}', { status: 503 }))
      .mockResolvedValueOnce(
        new Response(JSON.stringify({ success: false, error: { code: 'NOT_FOUND', message: 'Task t1 not found' } }), { status: 404 }),
      );
    const onEnd = vi.fn();
    const onRetry = vi.fn();
    openTaskStream({ taskId: 't1', authorisedFetch: fetch, onConnect: vi.fn(), onEvent: vi.fn(), onEnd, onRetry, random: () => 0 });
    await waitFor(() => onEnd.mock.calls.length > 0);
    expect(onRetry).toHaveBeenCalledTimes(2);
    expect(onEnd.mock.calls[0]![0]).toBe('error');
    expect(onEnd.mock.calls[0]![1]).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('ends as idle when the history says nothing is streaming and the server closes', async () => {
    const fetch = vi.fn(async () => sse([encodeSseEvent('history_done', { messageCount: 0, isStreaming: false })]));
    const onEnd = vi.fn();
    openTaskStream({ taskId: 't1', authorisedFetch: fetch, onConnect: vi.fn(), onEvent: vi.fn(), onEnd });
    await waitFor(() => onEnd.mock.calls.length > 0);
    expect(onEnd).toHaveBeenCalledWith('idle');
    expect(fetch).toHaveBeenCalledTimes(1);
  });

  it('keeps reading after an idle history_done when a fast follow-up streams behind it, until done', async () => {
    const userMessage = { id: 'msg-3', role: 'user', content: 'And now?', createdAt: '2026-01-01T00:00:00.000Z' };
    const fetch = vi.fn(async () =>
      sse(
        [
          encodeSseEvent('history_done', { messageCount: 2, isStreaming: false }, 4),
          encodeSseEvent('user_message', userMessage, 5),
          encodeSseEvent('content', { text: 'Right away.', isPartial: true }, 6),
          encodeSseEvent('done', { finalResponse: 'Right away.' }, 7),
        ],
        true,
      ),
    );
    const events: TaskStreamEvent[] = [];
    const onEnd = vi.fn();
    openTaskStream({ taskId: 't1', authorisedFetch: fetch, lastEventId: 4, onConnect: vi.fn(), onEvent: (e) => events.push(e), onEnd });
    await waitFor(() => onEnd.mock.calls.length > 0);
    expect(onEnd).toHaveBeenCalledWith('terminal');
    expect(events.map((e) => e.event)).toEqual(['history_done', 'user_message', 'content', 'done']);
  });

  it('reconnects when the connection drops after events that followed an idle history_done', async () => {
    const fetch = vi
      .fn<(path: string, init?: RequestInit) => Promise<Response>>()
      .mockResolvedValueOnce(
        sse([
          encodeSseEvent('history_done', { messageCount: 2, isStreaming: false }, 4),
          encodeSseEvent('content', { text: 'Half', isPartial: true }, 5),
        ]),
      )
      .mockResolvedValueOnce(sse([encodeSseEvent('done', { finalResponse: 'Half done' }, 6)]));
    const onEnd = vi.fn();
    openTaskStream({ taskId: 't1', authorisedFetch: fetch, onConnect: vi.fn(), onEvent: vi.fn(), onEnd, random: () => 0 });
    await waitFor(() => onEnd.mock.calls.length > 0);
    expect(onEnd).toHaveBeenCalledWith('terminal');
    expect(new Headers(fetch.mock.calls[1]![1]!.headers).get('Last-Event-ID')).toBe('5');
  });

  it('aborts the request on close and reports nothing afterwards', async () => {
    let signal: AbortSignal | undefined;
    const fetch = vi.fn(async (_path: string, init?: RequestInit) => {
      signal = init?.signal ?? undefined;
      return sse([encodeSseEvent('history_done', { messageCount: 0, isStreaming: true })], true);
    });
    const onEnd = vi.fn();
    const stream = openTaskStream({ taskId: 't1', authorisedFetch: fetch, onConnect: vi.fn(), onEvent: vi.fn(), onEnd });
    await waitFor(() => signal !== undefined);
    stream.close();
    expect(signal!.aborted).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(onEnd).not.toHaveBeenCalled();
  });
});
