import { APICallError } from '@ai-sdk/provider';
import { generateText, jsonSchema, streamText, tool, type ModelMessage, type TextStreamPart, type ToolSet } from 'ai';
import { describe, expect, it } from 'vitest';
import { DEMO_MODEL_LABEL, SCRIPTED_FAILURE_MESSAGE } from './decide-scripted-turn.ts';
import { createScriptedModel } from './scripted-model.ts';

const pathSchema = jsonSchema<{ path: string }>({
  type: 'object',
  properties: { path: { type: 'string' } },
  required: ['path'],
});
const tools = {
  list_directory: tool({ inputSchema: pathSchema }),
  read_file: tool({ inputSchema: pathSchema }),
  write_file: tool({
    inputSchema: jsonSchema<{ path: string; content: string }>({
      type: 'object',
      properties: { path: { type: 'string' }, content: { type: 'string' } },
      required: ['path', 'content'],
    }),
  }),
  run_shell_command: tool({
    inputSchema: jsonSchema<{ command: string; timeoutMs?: number }>({
      type: 'object',
      properties: { command: { type: 'string' }, timeoutMs: { type: 'number' } },
      required: ['command'],
    }),
  }),
} satisfies ToolSet;

type Part = TextStreamPart<typeof tools>;

async function runStep(messages: ModelMessage[], options: { abortSignal?: AbortSignal; slowChunkDelayMs?: number } = {}) {
  const model = createScriptedModel({ chunkDelayMs: 0, slowChunkDelayMs: options.slowChunkDelayMs ?? 0 });
  const result = streamText({
    model,
    messages,
    tools,
    maxRetries: 0,
    onError: () => {},
    ...(options.abortSignal !== undefined ? { abortSignal: options.abortSignal } : {}),
  });
  const parts: Part[] = [];
  for await (const part of result.fullStream) parts.push(part);
  const text = parts.flatMap((part) => (part.type === 'text-delta' ? [part.text] : [])).join('');
  const reasoning = parts.flatMap((part) => (part.type === 'reasoning-delta' ? [part.text] : [])).join('');
  const toolCalls = parts.flatMap((part) => (part.type === 'tool-call' ? [part] : []));
  return { parts, text, reasoning, toolCalls };
}

function user(text: string): ModelMessage {
  return { role: 'user', content: text };
}

function afterToolCall(prompt: string, toolName: string, input: unknown, output: string): ModelMessage[] {
  return [
    user(prompt),
    { role: 'assistant', content: [{ type: 'tool-call', toolCallId: 'call_1', toolName, input }] },
    { role: 'tool', content: [{ type: 'tool-result', toolCallId: 'call_1', toolName, output: { type: 'text', value: output } }] },
  ];
}

describe('createScriptedModel', () => {
  it('streams a thought, then the labelled help text in several chunks when the prompt matches no trigger', async () => {
    const { parts, text, reasoning, toolCalls } = await runStep([user('hello there')]);
    const deltas = parts.filter((part) => part.type === 'text-delta');
    expect(deltas.length).toBeGreaterThan(5);
    expect(text).toContain('list files');
    expect(text.endsWith(DEMO_MODEL_LABEL)).toBe(true);
    expect(reasoning.length).toBeGreaterThan(0);
    expect(parts.findIndex((part) => part.type === 'reasoning-delta')).toBeLessThan(
      parts.findIndex((part) => part.type === 'text-delta'),
    );
    expect(toolCalls).toEqual([]);
    const finish = parts.find((part) => part.type === 'finish');
    expect(finish?.type === 'finish' && finish.finishReason).toBe('stop');
    expect(finish?.type === 'finish' && finish.totalUsage.outputTokens).toBeGreaterThan(0);
  });

  it.each([
    ['list files please', 'list_directory', { path: '.' }],
    ['what files do I have?', 'list_directory', { path: '.' }],
    ['run `uname -a` for me', 'run_shell_command', { command: 'uname -a' }],
    ['shell `cat uploads/a.txt`', 'run_shell_command', { command: 'cat uploads/a.txt' }],
    ['run a command', 'run_shell_command', { command: 'ls -la /workspace' }],
    ['echo $API_TOKEN', 'run_shell_command', { command: 'echo $API_TOKEN' }],
    ['print env SECRET_NAME', 'run_shell_command', { command: 'echo $SECRET_NAME' }],
    ['read uploads/notes.txt.', 'read_file', { path: 'uploads/notes.txt' }],
    ['read `uploads/my notes.md`', 'read_file', { path: 'uploads/my notes.md' }],
  ])('calls the right tool when asked "%s"', async (prompt, toolName, input) => {
    const { toolCalls, parts } = await runStep([user(prompt)]);
    expect(toolCalls).toHaveLength(1);
    expect(toolCalls[0]?.toolName).toBe(toolName);
    expect(toolCalls[0]?.input).toEqual(input);
    const finish = parts.find((part) => part.type === 'finish');
    expect(finish?.type === 'finish' && finish.finishReason).toBe('tool-calls');
  });

  it.each(['write a report', 'create a file with my notes', 'make a file', 'I want something to download'])(
    'writes downloads/report.md when asked "%s"',
    async (prompt) => {
      const { toolCalls } = await runStep([user(prompt)]);
      expect(toolCalls[0]?.toolName).toBe('write_file');
      const input = toolCalls[0]?.input as { path: string; content: string };
      expect(input.path).toBe('downloads/report.md');
      expect(input.content).toMatch(/^# Concierge demo report/);
    },
  );

  it('gives tool calls ids that are unique within the conversation', async () => {
    const history = afterToolCall('list files', 'list_directory', { path: '.' }, '[]');
    const { toolCalls } = await runStep([...history, { role: 'assistant', content: 'done' }, user('list files again')]);
    expect(toolCalls[0]?.toolCallId).toBe('call_scripted_2');
  });

  it('summarises a directory listing after the tool result', async () => {
    const listing = JSON.stringify([
      { name: 'uploads', type: 'directory', size: 0 },
      { name: 'notes.txt', type: 'file', size: 12 },
    ]);
    const { text, toolCalls } = await runStep(afterToolCall('list files', 'list_directory', { path: '.' }, listing));
    expect(toolCalls).toEqual([]);
    expect(text).toContain('2 entries');
    expect(text).toContain('`uploads/`');
    expect(text).toContain('`notes.txt` (file, 12 bytes)');
    expect(text).toContain(DEMO_MODEL_LABEL);
  });

  it('reports the exit code and output of a shell command in a code block', async () => {
    const output = JSON.stringify({ exitCode: 0, stdout: 'total 0\n', stderr: '' });
    const { text } = await runStep(afterToolCall('run `ls`', 'run_shell_command', { command: 'ls' }, output));
    expect(text).toContain('`ls` exited with code 0.');
    expect(text).toContain('```\ntotal 0\n```');
  });

  it('reports a plain-text shell result with its exit code', async () => {
    const output = 'exit code: 2\nstderr: ls: cannot access';
    const { text } = await runStep(afterToolCall('run a command', 'run_shell_command', { command: 'ls' }, output));
    expect(text).toContain('exited with code 2');
    expect(text).toContain('ls: cannot access');
  });

  it('repeats the output of echo $NAME verbatim', async () => {
    const output = JSON.stringify({ exitCode: 0, stdout: 's3cr3t-value-123\n', stderr: '' });
    const { text } = await runStep(afterToolCall('echo $TOKEN', 'run_shell_command', { command: 'echo $TOKEN' }, output));
    expect(text).toContain('s3cr3t-value-123');
  });

  it('shows a command’s output and errors apart, without the shell tool’s own framing', async () => {
    const output = 'Exit code: 2\n--- stdout ---\nfile-a\n--- stderr ---\nls: cannot access x\n';
    const { text } = await runStep(afterToolCall('run `ls x`', 'run_shell_command', { command: 'ls x' }, output));
    expect(text).toContain('`ls x` exited with code 2.');
    expect(text).toContain('Output:\n\n```\nfile-a\n```');
    expect(text).toContain('Errors:\n\n```\nls: cannot access x\n```');
    expect(text).not.toContain('--- stdout ---');
  });

  it('says where the report is after writing it', async () => {
    const { text } = await runStep(
      afterToolCall('write a report', 'write_file', { path: 'downloads/report.md', content: '#' }, 'Wrote 120 bytes'),
    );
    expect(text).toContain('downloads/report.md');
    expect(text).toContain('You can download it below.');
    // Written for the visitor: no tool names, no tool chatter.
    expect(text).not.toContain('Wrote 120 bytes');
    expect(text).not.toContain('write_file');
  });

  it('shows a file after reading it', async () => {
    const { text } = await runStep(afterToolCall('read a.txt', 'read_file', { path: 'a.txt' }, 'hello ```x``` world'));
    expect(text).toContain('Here is `a.txt`');
    expect(text).toContain('````\nhello ```x``` world\n````');
  });

  it('acknowledges politely when the user declined the tool call', async () => {
    const { text, toolCalls } = await runStep(
      afterToolCall('run `rm -rf x`', 'run_shell_command', { command: 'rm -rf x' }, 'The user declined this tool call.'),
    );
    expect(toolCalls).toEqual([]);
    expect(text).toContain('you declined it');
  });

  it('acknowledges an execution-denied result by policy', async () => {
    const messages: ModelMessage[] = [
      user('write a report'),
      { role: 'assistant', content: [{ type: 'tool-call', toolCallId: 'c1', toolName: 'write_file', input: {} }] },
      {
        role: 'tool',
        content: [
          {
            type: 'tool-result',
            toolCallId: 'c1',
            toolName: 'write_file',
            output: { type: 'execution-denied', reason: 'Denied by the project policy.' },
          },
        ],
      },
    ];
    const { text } = await runStep(messages);
    expect(text).toContain("the project's tool policy does not allow it");
  });

  it('reports a tool error', async () => {
    const messages: ModelMessage[] = [
      user('read ../etc/passwd'),
      { role: 'assistant', content: [{ type: 'tool-call', toolCallId: 'c1', toolName: 'read_file', input: {} }] },
      {
        role: 'tool',
        content: [
          { type: 'tool-result', toolCallId: 'c1', toolName: 'read_file', output: { type: 'error-text', value: 'Path leaves the workspace' } },
        ],
      },
    ];
    const { text } = await runStep(messages);
    expect(text).toContain('That did not work:');
    expect(text).toContain('Path leaves the workspace');
    expect(text).not.toContain('read_file');
    expect(text).toContain('Path leaves the workspace');
  });

  it('emits a retryable APICallError every time when asked to fail', async () => {
    for (const prompt of ['please fail', 'show me an error']) {
      const { parts } = await runStep([user(prompt)]);
      const error = parts.find((part) => part.type === 'error');
      expect(error?.type).toBe('error');
      const cause = error?.type === 'error' ? error.error : undefined;
      expect(APICallError.isInstance(cause)).toBe(true);
      expect((cause as APICallError).isRetryable).toBe(true);
      expect((cause as APICallError).message).toBe(SCRIPTED_FAILURE_MESSAGE);
    }
  });

  it('throws the same failure from doGenerate', async () => {
    const model = createScriptedModel({ chunkDelayMs: 0 });
    const failure = await generateText({ model, prompt: 'fail', maxRetries: 0 }).catch((error: unknown) => error);
    expect(APICallError.isInstance(failure)).toBe(true);
    expect((failure as APICallError).statusCode).toBe(503);
  });

  it('streams the slow reply as 40 sentence chunks', async () => {
    const { parts, text } = await runStep([user('be slow')]);
    expect(parts.filter((part) => part.type === 'text-delta')).toHaveLength(41);
    expect(text).toContain('Sentence 40 of 40');
  });

  it('renders markdown elements and a literal script tag', async () => {
    const { text } = await runStep([user('show me markdown')]);
    expect(text).toMatch(/^# /m);
    expect(text).toContain('- A bullet');
    expect(text).toContain('](https://');
    expect(text).toContain('`inline code`');
    expect(text).toContain('```ts');
    expect(text).toContain('<script>alert(1)</script>');
  });

  it('answers in text when the wanted tool is not offered', async () => {
    const model = createScriptedModel({ chunkDelayMs: 0 });
    const result = streamText({ model, prompt: 'list files', tools: { read_file: tools.read_file } });
    expect(await result.text).toContain('not available');
    expect(await result.toolCalls).toEqual([]);
  });

  it('stops streaming when the abort signal fires mid-stream', async () => {
    const controller = new AbortController();
    const model = createScriptedModel({ chunkDelayMs: 0, slowChunkDelayMs: 20 });
    const result = streamText({ model, prompt: 'slow', abortSignal: controller.signal });
    const parts: Part[] = [];
    for await (const part of result.fullStream) {
      parts.push(part as Part);
      if (part.type === 'text-delta' && parts.filter((seen) => seen.type === 'text-delta').length === 3) controller.abort();
    }
    expect(parts.filter((part) => part.type === 'text-delta').length).toBeLessThan(6);
    expect(parts.at(-1)?.type).toBe('abort');
    expect(parts.some((part) => part.type === 'finish')).toBe(false);
  });

  it('rejects at once when the signal is already aborted', async () => {
    const model = createScriptedModel();
    const controller = new AbortController();
    controller.abort();
    await expect(model.doStream({ prompt: [], abortSignal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('cancels pending pauses when the consumer cancels the stream', async () => {
    const model = createScriptedModel({ chunkDelayMs: 10_000 });
    const { stream } = await model.doStream({ prompt: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] });
    const reader = stream.getReader();
    expect((await reader.read()).value?.type).toBe('stream-start');
    const started = Date.now();
    await reader.cancel();
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('answers doGenerate with the same content as the stream', async () => {
    const model = createScriptedModel({ chunkDelayMs: 0 });
    const generated = await generateText({ model, prompt: 'run `pwd`', tools });
    expect(generated.toolCalls[0]?.input).toEqual({ command: 'pwd' });
    expect(generated.reasoningText).toContain('shell command');
    expect(generated.text).toBe('I will run `pwd`.');
    expect(generated.finishReason).toBe('tool-calls');
    const streamed = await runStep([user('run `pwd`')]);
    expect(streamed.text).toBe(generated.text);
  });
});
