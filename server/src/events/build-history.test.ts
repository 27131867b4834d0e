import type { TaskEvent } from '@concierge/shared';
import { describe, expect, it } from 'vitest';
import { buildHistory, toTaskOutput } from './build-history.ts';

const at = '2026-01-01T00:00:00.000Z';
let seq = 0;
const event = (name: string, data: unknown): TaskEvent => ({ seq: ++seq, event: name, data, createdAt: at }) as TaskEvent;

describe('buildHistory', () => {
  it('folds a turn with a tool call into user and assistant messages', () => {
    const { messages, lastSeq } = buildHistory([
      event('user_message', { id: 'msg-1', role: 'user', content: 'hi', createdAt: at, attachedFiles: [{ name: 'a.csv', path: 'uploads/a.csv' }] }),
      event('status', { status: 'processing' }),
      event('thought', { subject: 'Plan', description: 'list files' }),
      event('content', { text: 'Let me ', isPartial: true }),
      event('content', { text: 'look.', isPartial: true }),
      event('tool_call', { callId: 'c1', toolName: 'list_directory', status: 'awaiting_approval', args: { path: '.' } }),
      event('tool_call', { callId: 'c1', toolName: 'list_directory', status: 'executing', args: { path: '.' } }),
      event('tool_result', { callId: 'c1', status: 'success', output: 'uploads/' }),
      event('content', { text: 'Let me look. Done.', isPartial: false }),
      event('done', { finalResponse: 'Let me look. Done.' }),
    ]);
    expect(lastSeq).toBe(seq);
    expect(messages).toHaveLength(2);
    expect(messages[0]).toMatchObject({ id: 'msg-1', role: 'user', attachedFiles: [{ name: 'a.csv', path: 'uploads/a.csv' }] });
    expect(messages[1]).toEqual({
      id: 'msg-2',
      role: 'assistant',
      content: 'Let me look. Done.',
      createdAt: at,
      thoughts: [{ subject: 'Plan', description: 'list files' }],
      toolCalls: [{ callId: 'c1', toolName: 'list_directory', status: 'success', args: { path: '.' }, output: 'uploads/' }],
    });
  });

  it('starts a new assistant message after each follow-up', () => {
    const { messages, lastAssistant } = buildHistory([
      event('user_message', { id: 'msg-1', role: 'user', content: 'one', createdAt: at }),
      event('content', { text: 'first', isPartial: true }),
      event('done', { finalResponse: 'first' }),
      event('user_message', { id: 'msg-3', role: 'user', content: 'two', createdAt: at }),
      event('content', { text: 'sec', isPartial: true }),
    ]);
    expect(messages.map((message) => [message.id, message.role, message.content])).toEqual([
      ['msg-1', 'user', 'one'],
      ['msg-2', 'assistant', 'first'],
      ['msg-3', 'user', 'two'],
      ['msg-4', 'assistant', 'sec'],
    ]);
    expect(toTaskOutput(lastAssistant, at)).toEqual({ content: 'sec', updatedAt: at });
  });

  it('returns no output before the agent said anything', () => {
    const { lastAssistant } = buildHistory([event('user_message', { id: 'msg-1', role: 'user', content: 'x', createdAt: at })]);
    expect(toTaskOutput(lastAssistant, at)).toBeUndefined();
  });
});
