import type { Message } from '@concierge/shared';
import { describe, expect, it } from 'vitest';
import type { TaskStreamEvent } from '../api/task-stream.ts';
import {
  type ConversationAction,
  type ConversationState,
  createConversationState,
  reduceConversation,
} from './conversation-reducer.ts';

const event = (e: Omit<TaskStreamEvent, 'seq'> & { seq?: number }): ConversationAction => ({
  type: 'event',
  event: { seq: undefined, ...e } as TaskStreamEvent,
});
const run = (actions: ConversationAction[], state: ConversationState = createConversationState()) =>
  actions.reduce(reduceConversation, state);
const userMessage: Message = { id: 'msg-1', role: 'user', content: 'Hi', createdAt: '2026-01-01T00:00:00.000Z' };

describe('reduceConversation', () => {
  it('appends partial content and replaces it with final content', () => {
    const state = run([
      { type: 'connect', resumed: false },
      event({ event: 'history_message', data: userMessage }),
      event({ event: 'history_done', data: { messageCount: 1, isStreaming: true } }),
      event({ event: 'content', data: { text: 'Hel', isPartial: true }, seq: 1 }),
      event({ event: 'content', data: { text: 'lo', isPartial: true }, seq: 2 }),
    ]);
    expect(state.messages.map((m) => m.content)).toEqual(['Hi', 'Hello']);
    expect(state.messages[1]!.streaming).toBe(true);
    expect(state.phase).toBe('working');
    const final = run([event({ event: 'content', data: { text: 'Hello there', isPartial: false }, seq: 3 })], state);
    expect(final.messages[1]!.content).toBe('Hello there');
    const done = run([event({ event: 'done', data: { finalResponse: 'Hello there' }, seq: 4 })], final);
    expect(done.messages[1]!.streaming).toBe(false);
    expect(done.phase).toBe('completed');
  });

  it('ignores events at or below the last applied sequence when a reconnect replays them', () => {
    const first = run([
      event({ event: 'content', data: { text: 'A', isPartial: true }, seq: 1 }),
      event({ event: 'content', data: { text: 'B', isPartial: true }, seq: 2 }),
    ]);
    const resumed = run(
      [
        { type: 'connect', resumed: true },
        event({ event: 'history_done', data: { messageCount: 1, isStreaming: true } }),
        event({ event: 'content', data: { text: 'B', isPartial: true }, seq: 2 }),
        event({ event: 'content', data: { text: 'C', isPartial: true }, seq: 3 }),
      ],
      first,
    );
    expect(resumed.messages).toHaveLength(1);
    expect(resumed.messages[0]!.content).toBe('ABC');
    expect(resumed.lastSeq).toBe(3);
  });

  it('rebuilds from history on a full replay without duplicating messages', () => {
    const before = run([
      event({ event: 'history_message', data: userMessage }),
      event({ event: 'history_done', data: { messageCount: 1, isStreaming: false } }),
    ]);
    const after = run(
      [
        { type: 'connect', resumed: false },
        event({ event: 'history_message', data: userMessage }),
        event({ event: 'history_message', data: { ...userMessage, id: 'msg-2', role: 'assistant', content: 'Yo' } }),
        event({ event: 'history_done', data: { messageCount: 2, isStreaming: false } }),
      ],
      before,
    );
    expect(after.messages.map((m) => m.id)).toEqual(['msg-1', 'msg-2']);
  });

  it('tracks a tool call from approval through its result', () => {
    const waiting = run([
      event({ event: 'tool_call', data: { callId: 'c1', toolName: 'run_shell_command', status: 'awaiting_approval', args: { command: 'ls' } }, seq: 1 }),
    ]);
    expect(waiting.phase).toBe('awaiting_approval');
    expect(waiting.messages[0]!.toolCalls?.[0]).toMatchObject({ callId: 'c1', status: 'awaiting_approval' });
    const executing = run(
      [event({ event: 'tool_call', data: { callId: 'c1', toolName: 'run_shell_command', status: 'executing', args: { command: 'ls' } }, seq: 2 })],
      waiting,
    );
    expect(executing.phase).toBe('working');
    expect(executing.messages[0]!.toolCalls).toHaveLength(1);
    const result = run([event({ event: 'tool_result', data: { callId: 'c1', status: 'success', output: 'a.txt' }, seq: 3 })], executing);
    expect(result.messages[0]!.toolCalls?.[0]).toMatchObject({ status: 'success', output: 'a.txt', toolName: 'run_shell_command' });
  });

  it('restores a pending approval from history so the card shows its buttons after a reload', () => {
    const state = run([
      { type: 'phase', phase: 'loading' },
      { type: 'connect', resumed: false },
      event({ event: 'history_message', data: userMessage }),
      event({
        event: 'history_message',
        data: {
          id: 'msg-2',
          role: 'assistant',
          content: '',
          createdAt: userMessage.createdAt,
          toolCalls: [{ callId: 'c9', toolName: 'write_file', status: 'awaiting_approval', args: {} }],
        },
      }),
      event({ event: 'history_done', data: { messageCount: 2, isStreaming: true } }),
    ]);
    expect(state.phase).toBe('awaiting_approval');
    expect(state.messages[1]!.streaming).toBe(true);
  });

  it('marks a rejected tool call and goes on working', () => {
    const state = run([
      event({ event: 'tool_call', data: { callId: 'c1', toolName: 'x', status: 'awaiting_approval', args: {} }, seq: 1 }),
      event({ event: 'tool_result', data: { callId: 'c1', status: 'rejected', output: 'Denied by the user' }, seq: 2 }),
    ]);
    expect(state.messages[0]!.toolCalls?.[0]?.status).toBe('rejected');
    expect(state.phase).toBe('working');
  });

  it('ends the turn on error and on cancellation', () => {
    const failed = run([
      event({ event: 'content', data: { text: 'Work', isPartial: true }, seq: 1 }),
      event({ event: 'error', data: { message: 'Model unavailable', code: 'MODEL_ERROR' }, seq: 2 }),
    ]);
    expect(failed.phase).toBe('failed');
    expect(failed.error).toEqual({ message: 'Model unavailable', code: 'MODEL_ERROR' });
    expect(failed.messages[0]!.streaming).toBe(false);
    const cancelled = run([
      event({ event: 'content', data: { text: 'Work', isPartial: true }, seq: 1 }),
      event({ event: 'status', data: { status: 'cancelled' }, seq: 2 }),
    ]);
    expect(cancelled.phase).toBe('cancelled');
  });

  it('replaces the optimistic user message with the confirmed one', () => {
    const local = {
      id: 'local-1',
      role: 'user' as const,
      content: 'Hi',
      createdAt: userMessage.createdAt,
      thoughts: [],
      toolCalls: [],
      streaming: false,
      local: true,
    };
    const state = run([
      { type: 'send', message: local },
      { type: 'connect', resumed: true },
      event({ event: 'user_message', data: userMessage, seq: 5 }),
    ]);
    expect(state.messages.map((m) => m.id)).toEqual(['msg-1']);
    const replayed = run([
      { type: 'send', message: local },
      { type: 'connect', resumed: false },
      event({ event: 'history_done', data: { messageCount: 0, isStreaming: false } }),
    ]);
    expect(replayed.messages.map((m) => m.id)).toEqual(['local-1']);
  });

  it('takes done.finalResponse as the whole turn text, as history does (the shared fold)', () => {
    const state = run([
      event({ event: 'content', data: { text: 'Hello', isPartial: true }, seq: 1 }),
      event({ event: 'done', data: { finalResponse: 'Hello world' }, seq: 3 }),
    ]);
    expect(state.messages[0]!.content).toBe('Hello world');
    expect(state.messages[0]!.streaming).toBe(false);
  });

  it('keeps a failed or stopped turn as a message with its interruption, and after the next message', () => {
    const failed = run([
      event({ event: 'user_message', data: userMessage, seq: 1 }),
      event({ event: 'tool_call', data: { callId: 'c1', toolName: 'run_shell_command', status: 'executing', args: { command: 'ls' } }, seq: 2 }),
      event({ event: 'error', data: { message: 'The model is unavailable.', code: 'MODEL_UNAVAILABLE' }, seq: 3 }),
    ]);
    expect(failed.phase).toBe('failed');
    expect(failed.messages[1]!.interrupted).toEqual({ reason: 'failed', message: 'The model is unavailable.', code: 'MODEL_UNAVAILABLE' });
    expect(failed.messages[1]!.toolCalls![0]!.status).toBe('error');
    const next = run(
      [
        { type: 'send', message: { id: 'local-1', role: 'user', content: 'again', createdAt: '', streaming: false, local: true } },
        event({ event: 'user_message', data: { ...userMessage, id: 'msg-3', content: 'again' }, seq: 4 }),
        event({ event: 'status', data: { status: 'cancelled' }, seq: 5 }),
      ],
      failed,
    );
    expect(next.messages.map((m) => m.interrupted?.reason)).toEqual([undefined, 'failed', undefined, 'cancelled']);
    expect(next.phase).toBe('cancelled');
  });

  it('discards the partial text since the last tool call on a retry with resetContent, and shows the retry', () => {
    const state = run([
      event({ event: 'user_message', data: userMessage, seq: 1 }),
      event({ event: 'content', data: { text: 'Let me look. ', isPartial: true }, seq: 2 }),
      event({ event: 'tool_call', data: { callId: 'c1', toolName: 'list_directory', status: 'executing', args: { path: '.' } }, seq: 3 }),
      event({ event: 'tool_result', data: { callId: 'c1', status: 'success', output: 'a.txt' }, seq: 4 }),
      event({ event: 'content', data: { text: 'There is a fi', isPartial: true }, seq: 5 }),
      event({ event: 'status', data: { status: 'retrying', resetContent: true }, seq: 6 }),
    ]);
    expect(state.messages[1]!.content).toBe('Let me look. ');
    expect(state.retrying).toBe(true);
    const resumed = run([event({ event: 'content', data: { text: 'There is a file.', isPartial: true }, seq: 7 })], state);
    expect(resumed.messages[1]!.content).toBe('Let me look. There is a file.');
    expect(resumed.retrying).toBe(false);
    const plain = run([event({ event: 'status', data: { status: 'retrying' }, seq: 6 })], run([event({ event: 'content', data: { text: 'Kept', isPartial: true }, seq: 5 })]));
    expect(plain.messages[0]!.content).toBe('Kept');
  });
});

describe('reduceConversation with sequenced history', () => {
  it('applies history_done when it carries the same id as the last history_message', () => {
    const state = run([
      { type: 'connect', resumed: false },
      event({ event: 'history_message', data: userMessage, seq: 3 }),
      event({ event: 'history_done', data: { messageCount: 1, isStreaming: true }, seq: 3 }),
      event({ event: 'content', data: { text: 'Hi!', isPartial: true }, seq: 4 }),
    ]);
    expect(state.replay).toBeNull();
    expect(state.messages.map((m) => m.content)).toEqual(['Hi', 'Hi!']);
    expect(state.lastSeq).toBe(4);
  });
});
