import { describe, expect, it } from 'vitest';
import type { Message } from './task.ts';
import { CANCELLED_TURN_MESSAGE, type FoldableEvent, foldTaskEvent, foldTaskEvents } from './fold-task-events.ts';

const at = '2026-01-01T00:00:00.000Z';
const logged = (event: string, data: unknown): FoldableEvent => ({ event, data, createdAt: at }) as FoldableEvent;
const user = (content: string): FoldableEvent => logged('user_message', { id: 'ignored', role: 'user', content, createdAt: at });

describe('foldTaskEvents', () => {
  it('folds a turn with an approved tool call into a user and an assistant message', () => {
    const messages = foldTaskEvents([
      logged('user_message', { id: 'x', role: 'user', content: 'hi', createdAt: at, attachedFiles: [{ name: 'a.csv', path: 'uploads/a.csv' }] }),
      logged('status', { status: 'processing' }),
      logged('thought', { subject: 'Plan', description: 'list files' }),
      logged('content', { text: 'Let me ', isPartial: true }),
      logged('content', { text: 'look.', isPartial: true }),
      logged('tool_call', { callId: 'c1', toolName: 'list_directory', status: 'awaiting_approval', args: { path: '.' } }),
      logged('tool_decision', { callId: 'c1', outcome: 'proceed_once' }),
      logged('tool_result', { callId: 'c1', status: 'success', output: 'uploads/' }),
      logged('content', { text: 'Let me look. Done.', isPartial: false }),
      logged('done', { finalResponse: 'Let me look. Done.' }),
    ]);
    expect(messages).toEqual([
      { id: 'msg-1', role: 'user', content: 'hi', createdAt: at, attachedFiles: [{ name: 'a.csv', path: 'uploads/a.csv' }] },
      {
        id: 'msg-2',
        role: 'assistant',
        content: 'Let me look. Done.',
        createdAt: at,
        thoughts: [{ subject: 'Plan', description: 'list files' }],
        toolCalls: [{ callId: 'c1', toolName: 'list_directory', status: 'success', args: { path: '.' }, output: 'uploads/' }],
      },
    ]);
  });

  it('starts a new assistant message after each follow-up', () => {
    const messages = foldTaskEvents([user('one'), logged('content', { text: 'first', isPartial: true }), logged('done', { finalResponse: 'first' }), user('two'), logged('content', { text: 'sec', isPartial: true })]);
    expect(messages.map((message) => [message.id, message.role, message.content])).toEqual([
      ['msg-1', 'user', 'one'],
      ['msg-2', 'assistant', 'first'],
      ['msg-3', 'user', 'two'],
      ['msg-4', 'assistant', 'sec'],
    ]);
  });

  it('records a failed turn as an assistant message with the error and closes its open tool call', () => {
    const messages = foldTaskEvents([
      user('run it'),
      logged('tool_call', { callId: 'c1', toolName: 'run_shell_command', status: 'executing', args: { command: 'ls' } }),
      logged('error', { message: 'Model request failed', code: 'MODEL_ERROR' }),
    ]);
    expect(messages[1]).toMatchObject({
      role: 'assistant',
      interrupted: { reason: 'failed', message: 'Model request failed', code: 'MODEL_ERROR' },
      toolCalls: [{ callId: 'c1', status: 'error' }],
    });
  });

  it('records a cancelled turn even when the agent had said nothing, rejecting a pending approval', () => {
    const pendingOnly = foldTaskEvents([user('hi'), logged('status', { status: 'cancelled' })]);
    expect(pendingOnly[1]).toEqual({ id: 'msg-2', role: 'assistant', content: '', createdAt: at, interrupted: { reason: 'cancelled', message: CANCELLED_TURN_MESSAGE } });

    const awaiting = foldTaskEvents([
      user('write'),
      logged('content', { text: 'Writing', isPartial: true }),
      logged('tool_call', { callId: 'c2', toolName: 'write_file', status: 'awaiting_approval', args: { path: 'a' } }),
      logged('status', { status: 'cancelled' }),
    ]);
    expect(awaiting[1]).toMatchObject({ content: 'Writing', interrupted: { reason: 'cancelled' }, toolCalls: [{ callId: 'c2', status: 'rejected', output: CANCELLED_TURN_MESSAGE }] });
  });

  it('keeps a tool result that arrived before the turn closed', () => {
    const messages = foldTaskEvents([
      user('x'),
      logged('tool_call', { callId: 'c1', toolName: 'read_file', status: 'executing', args: {} }),
      logged('tool_result', { callId: 'c1', status: 'success', output: 'text' }),
      logged('status', { status: 'cancelled' }),
    ]);
    expect(messages[1]?.toolCalls).toEqual([{ callId: 'c1', toolName: 'read_file', status: 'success', args: {}, output: 'text' }]);
  });

  it('discards the partial text of a retried attempt when the status says so', () => {
    const messages = foldTaskEvents([
      user('x'),
      logged('content', { text: 'half an ans', isPartial: true }),
      logged('status', { status: 'retrying', resetContent: true }),
      logged('content', { text: 'A whole answer.', isPartial: true }),
    ]);
    expect(messages[1]?.content).toBe('A whole answer.');
  });

  it('adds a tool result whose call it never saw, with the tool name the result carries', () => {
    const messages = foldTaskEvents([logged('tool_result', { callId: 'c9', toolName: 'read_file', status: 'error', output: 'nope' })]);
    expect(messages).toEqual([{ id: 'msg-1', role: 'assistant', content: '', createdAt: at, toolCalls: [{ callId: 'c9', toolName: 'read_file', args: {}, status: 'error', output: 'nope' }] }]);
  });
});

describe('foldTaskEvent', () => {
  it('never mutates its input and returns the same array when nothing changes', () => {
    const before: readonly Message[] = Object.freeze([Object.freeze({ id: 'msg-1', role: 'assistant' as const, content: 'a', createdAt: at })]);
    const after = foldTaskEvent(before, { event: 'content', data: { text: 'b', isPartial: true } }, () => at);
    expect(after[0]?.content).toBe('ab');
    expect(before[0]?.content).toBe('a');
    expect(foldTaskEvent(before, { event: 'history_done', data: { messageCount: 1, isStreaming: false } })).toBe(before);
    expect(foldTaskEvent(before, { event: 'status', data: { status: 'processing' } })).toBe(before);
  });

  it('replaces a replayed history_message with the same id instead of duplicating it', () => {
    const first: Message = { id: 'msg-2', role: 'assistant', content: 'part', createdAt: at };
    const once = foldTaskEvent([], { event: 'history_message', data: first });
    const twice = foldTaskEvent(once, { event: 'history_message', data: { ...first, content: 'whole' } });
    expect(twice).toEqual([{ ...first, content: 'whole' }]);
  });

  it('stamps a live event without createdAt with the clock it is given', () => {
    const messages = foldTaskEvent([], { event: 'thought', data: { subject: 's', description: 'd' } }, () => '2026-02-02T00:00:00.000Z');
    expect(messages[0]).toMatchObject({ id: 'msg-1', role: 'assistant', createdAt: '2026-02-02T00:00:00.000Z' });
  });
});

describe('foldTaskEvent tool_decision', () => {
  it('shows an approved call as executing and a declined one as rejected before their results', () => {
    const asked = foldTaskEvents([
      user('x'),
      logged('tool_call', { callId: 'a', toolName: 'write_file', status: 'awaiting_approval', args: { path: 'p' } }),
      logged('tool_call', { callId: 'b', toolName: 'read_file', status: 'awaiting_approval', args: { path: 'q' } }),
    ]);
    const approved = foldTaskEvent(asked, logged('tool_decision', { callId: 'a', outcome: 'proceed_always' }));
    const declined = foldTaskEvent(approved, logged('tool_decision', { callId: 'b', outcome: 'cancel' }));
    expect(declined[1]?.toolCalls).toEqual([
      { callId: 'a', toolName: 'write_file', status: 'executing', args: { path: 'p' } },
      { callId: 'b', toolName: 'read_file', status: 'rejected', args: { path: 'q' } },
    ]);
  });

  it('keeps a decision that was logged before the call was announced', () => {
    const messages = foldTaskEvents([
      user('x'),
      logged('tool_decision', { callId: 'a', outcome: 'proceed_once' }),
      logged('tool_call', { callId: 'a', toolName: 'write_file', status: 'awaiting_approval', args: { path: 'p' } }),
    ]);
    expect(messages[1]?.toolCalls).toEqual([{ callId: 'a', toolName: 'write_file', status: 'executing', args: { path: 'p' } }]);
  });
});
