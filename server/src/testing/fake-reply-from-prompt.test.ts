import { describe, expect, it } from 'vitest';
import { fakeReplyFromPrompt } from './fake-reply-from-prompt.ts';
import type { FakeChatRequest } from './fake-openai-server.ts';

function request(messages: FakeChatRequest['messages'], tools?: string[]): FakeChatRequest {
  return {
    model: 'm',
    messages,
    headers: {},
    ...(tools !== undefined ? { tools: tools.map((name) => ({ type: 'function' as const, function: { name } })) } : {}),
  };
}

describe('fakeReplyFromPrompt', () => {
  it('calls write_file for "write a report"', () => {
    const reply = fakeReplyFromPrompt(request([{ role: 'user', content: 'write a report' }], ['write_file']));
    expect(reply.toolCalls?.[0]).toMatchObject({ name: 'write_file', args: { path: 'downloads/report.md' } });
  });

  it('reads content given as an array of parts', () => {
    const reply = fakeReplyFromPrompt(request([{ role: 'user', content: [{ type: 'text', text: 'echo $TOKEN' }] }]));
    expect(reply.toolCalls?.[0]).toEqual({ name: 'run_shell_command', args: { command: 'echo $TOKEN' } });
  });

  it('streams the slow reply as delayed sentence chunks', () => {
    const reply = fakeReplyFromPrompt(request([{ role: 'user', content: 'slow please' }]));
    expect(reply.delayMs).toBe(100);
    expect(reply.text).toHaveLength(40);
  });

  it('answers 503 for "fail"', () => {
    expect(fakeReplyFromPrompt(request([{ role: 'user', content: 'fail' }])).error).toMatchObject({ status: 503 });
  });

  it('repeats the echo output after the tool result', () => {
    const reply = fakeReplyFromPrompt(
      request([
        { role: 'user', content: 'echo $TOKEN' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'c1', type: 'function', function: { name: 'run_shell_command', arguments: '{"command":"echo $TOKEN"}' } }],
        },
        { role: 'tool', tool_call_id: 'c1', content: '{"exitCode":0,"stdout":"abc123\\n","stderr":""}' },
      ]),
    );
    expect(reply.toolCalls).toBeUndefined();
    expect(reply.text).toContain('abc123');
  });

  it('acknowledges a declined call', () => {
    const reply = fakeReplyFromPrompt(
      request([
        { role: 'user', content: 'run a command' },
        { role: 'assistant', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'run_shell_command', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'c1', content: 'The user declined this tool call.' },
      ]),
    );
    expect(reply.text).toContain('you declined it');
  });
});
