import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { APICallError } from '@ai-sdk/provider';
import { generateText, jsonSchema, streamText, tool, type TextStreamPart, type ToolSet } from 'ai';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeOpenAIServer, type FakeOpenAIServer, type FakeOpenAIServerOptions } from './fake-openai-server.ts';

const tools = {
  list_directory: tool({
    inputSchema: jsonSchema<{ path: string }>({ type: 'object', properties: { path: { type: 'string' } }, required: ['path'] }),
  }),
  write_file: tool({
    inputSchema: jsonSchema<{ path: string; content: string }>({
      type: 'object',
      properties: { path: { type: 'string' }, content: { type: 'string' } },
      required: ['path', 'content'],
    }),
  }),
} satisfies ToolSet;

type StreamChunk = {
  object: string;
  choices: Array<{ delta: { tool_calls?: Array<{ index: number; function: { arguments: string } }> } }>;
  usage?: unknown;
};

let server: FakeOpenAIServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(options: FakeOpenAIServerOptions = {}): Promise<FakeOpenAIServer> {
  server = await startFakeOpenAIServer(options);
  return server;
}

function modelFor(url: string, includeUsage = true) {
  return createOpenAICompatible({ name: 'fake', baseURL: url, includeUsage }).chatModel('fake-model');
}

async function collect(url: string, prompt: string, options: { includeUsage?: boolean; abortSignal?: AbortSignal } = {}) {
  const result = streamText({
    model: modelFor(url, options.includeUsage ?? true),
    prompt,
    tools,
    maxRetries: 0,
    onError: () => {},
    ...(options.abortSignal !== undefined ? { abortSignal: options.abortSignal } : {}),
  });
  const parts: Array<TextStreamPart<typeof tools>> = [];
  for await (const part of result.fullStream) parts.push(part);
  return parts;
}

describe('startFakeOpenAIServer', () => {
  it('streams text deltas, reasoning and usage in the Chat Completions format', async () => {
    const { url, requests } = await start({ reply: () => ({ reasoning: 'Thinking it over.', text: ['Hel', 'lo, ', 'world'] }) });
    const parts = await collect(url, 'hi');
    expect(parts.filter((part) => part.type === 'text-delta').map((part) => part.text)).toEqual(['Hel', 'lo, ', 'world']);
    expect(parts.flatMap((part) => (part.type === 'reasoning-delta' ? [part.text] : [])).join('')).toBe('Thinking it over.');
    const finish = parts.find((part) => part.type === 'finish');
    expect(finish?.type === 'finish' && finish.finishReason).toBe('stop');
    const usage = finish?.type === 'finish' ? finish.totalUsage : undefined;
    expect(usage?.inputTokens).toBeGreaterThan(0);
    expect(usage?.outputTokens).toBeGreaterThan(0);
    expect(requests).toHaveLength(1);
    expect(requests[0]?.stream).toBe(true);
    expect(requests[0]?.messages.at(-1)).toEqual({ role: 'user', content: 'hi' });
    expect(requests[0]?.tools?.map((entry) => entry.function.name)).toEqual(['list_directory', 'write_file']);
  });

  it('sends the raw SSE lines of a real Chat Completions stream', async () => {
    const { url } = await start({ reply: () => ({ text: 'Hi there', toolCalls: [{ name: 'list_directory', args: { path: '.' } }] }) });
    const response = await fetch(`${url}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', messages: [], stream: true, stream_options: { include_usage: true } }),
    });
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const lines = (await response.text()).split('\n\n').filter((line) => line !== '');
    expect(lines.at(-1)).toBe('data: [DONE]');
    const chunks = lines.slice(0, -1).map((line) => JSON.parse(line.replace(/^data: /, '')) as StreamChunk);
    expect(chunks[0]).toMatchObject({ object: 'chat.completion.chunk', choices: [{ index: 0, delta: { role: 'assistant' } }] });
    const argumentPieces = chunks.flatMap((chunk) => chunk.choices[0]?.delta?.tool_calls ?? []);
    expect(argumentPieces[0]).toMatchObject({ index: 0, type: 'function', function: { name: 'list_directory', arguments: '' } });
    expect(argumentPieces.length).toBeGreaterThan(2);
    expect(argumentPieces.map((piece) => piece.function.arguments).join('')).toBe('{"path":"."}');
    expect(chunks.at(-2)?.choices[0]).toMatchObject({ delta: {}, finish_reason: 'tool_calls' });
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: expect.any(Number) } });
  });

  it('omits the usage chunk unless the client asks for it', async () => {
    const { url } = await start({ reply: () => ({ text: 'ok' }) });
    const parts = await collect(url, 'hi', { includeUsage: false });
    const finish = parts.find((part) => part.type === 'finish');
    expect(finish?.type === 'finish' && finish.totalUsage.inputTokens).toBeUndefined();
  });

  it('reassembles tool-call arguments split across chunks into parsed tool calls', async () => {
    const content = '# Report\n\nLine "quoted" and unicode é.';
    const { url } = await start({
      reply: () => ({
        text: 'Working on it.',
        toolCalls: [
          { name: 'list_directory', args: { path: 'uploads' }, id: 'call_a' },
          { name: 'write_file', args: { path: 'downloads/r.md', content } },
        ],
      }),
    });
    const parts = await collect(url, 'do it');
    const calls = parts.flatMap((part) => (part.type === 'tool-call' ? [part] : []));
    expect(calls.map((call) => [call.toolCallId, call.toolName, call.input])).toEqual([
      ['call_a', 'list_directory', { path: 'uploads' }],
      [expect.stringMatching(/^call_fake_/), 'write_file', { path: 'downloads/r.md', content }],
    ]);
    const finish = parts.find((part) => part.type === 'finish');
    expect(finish?.type === 'finish' && finish.finishReason).toBe('tool-calls');
  });

  it('surfaces an HTTP error as an APICallError with its status', async () => {
    const { url } = await start({ reply: () => ({ error: { status: 429, message: 'Rate limit reached' } }) });
    const parts = await collect(url, 'hi');
    const error = parts.find((part) => part.type === 'error');
    const cause = error?.type === 'error' ? error.error : undefined;
    expect(APICallError.isInstance(cause)).toBe(true);
    expect((cause as APICallError).statusCode).toBe(429);
    expect((cause as APICallError).isRetryable).toBe(true);
    expect((cause as APICallError).message).toContain('Rate limit reached');
  });

  it('answers non-streaming requests with a chat.completion', async () => {
    const { url } = await start({ reply: () => ({ text: 'Plain answer', toolCalls: [{ name: 'list_directory', args: { path: '.' } }] }) });
    const result = await generateText({ model: modelFor(url), prompt: 'hi', tools, maxRetries: 0 });
    expect(result.text).toBe('Plain answer');
    expect(result.toolCalls[0]?.input).toEqual({ path: '.' });
    expect(result.usage.inputTokens).toBeGreaterThan(0);
  });

  it('follows the scripted triggers by default, across a tool round trip', async () => {
    const { url, requests } = await start();
    const model = modelFor(url);
    const first = await generateText({ model, prompt: 'list files', tools, maxRetries: 0 });
    expect(first.toolCalls[0]?.toolName).toBe('list_directory');
    const call = first.toolCalls[0]!;
    const second = await generateText({
      model,
      tools,
      maxRetries: 0,
      messages: [
        { role: 'user', content: 'list files' },
        ...first.response.messages,
        {
          role: 'tool',
          content: [
            {
              type: 'tool-result',
              toolCallId: call.toolCallId,
              toolName: call.toolName,
              output: { type: 'text', value: JSON.stringify([{ name: 'a.txt', type: 'file', size: 3 }]) },
            },
          ],
        },
      ],
    });
    expect(second.text).toContain('`a.txt` (file, 3 bytes)');
    expect(second.text).not.toContain('Concierge demo model');
    expect(requests).toHaveLength(2);
  });

  it('fails with a retryable 503 when the prompt says fail', async () => {
    const { url } = await start();
    const failure = await generateText({ model: modelFor(url), prompt: 'fail', maxRetries: 0 }).catch((error: unknown) => error);
    expect(APICallError.isInstance(failure)).toBe(true);
    expect((failure as APICallError).statusCode).toBe(503);
  });

  it('passes the request index and headers to the reply function', async () => {
    const seen: Array<[number, string | undefined]> = [];
    const { url } = await start({
      reply: (request, index) => {
        seen.push([index, request.headers.authorization]);
        return { text: `answer ${index}` };
      },
    });
    const model = createOpenAICompatible({ name: 'fake', baseURL: url, apiKey: 'test-key' }).chatModel('m');
    await generateText({ model, prompt: 'a' });
    const second = await generateText({ model, prompt: 'b' });
    expect(second.text).toBe('answer 1');
    expect(seen).toEqual([
      [0, 'Bearer test-key'],
      [1, 'Bearer test-key'],
    ]);
  });

  it('stops a delayed stream when the client aborts', async () => {
    const { url } = await start({ reply: () => ({ text: Array.from({ length: 50 }, (_, index) => `c${index} `), delayMs: 20 }) });
    const controller = new AbortController();
    const result = streamText({ model: modelFor(url), prompt: 'hi', abortSignal: controller.signal, onError: () => {} });
    let deltas = 0;
    let last: string | undefined;
    for await (const part of result.fullStream) {
      last = part.type;
      if (part.type === 'text-delta' && ++deltas === 2) controller.abort();
    }
    expect(deltas).toBeLessThan(5);
    expect(last).toBe('abort');
  });

  it('holds a hanging request open until close()', async () => {
    const fake = await start({ reply: () => ({ hang: true }) });
    const request = fetch(`${fake.url}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', messages: [] }),
    }).then(
      () => 'answered',
      () => 'dropped',
    );
    const raced = await Promise.race([request, new Promise((resolve) => setTimeout(() => resolve('pending'), 100))]);
    expect(raced).toBe('pending');
    await fake.close();
    expect(await request).toBe('dropped');
  });

  it('lists models and rejects unknown paths and bad bodies with OpenAI-style errors', async () => {
    const { url } = await start();
    const models = (await (await fetch(`${url}/models`)).json()) as { data: Array<{ id: string }> };
    expect(models.data[0]?.id).toBe('fake-model');
    const missing = await fetch(`${url}/embeddings`, { method: 'POST' });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { message: expect.stringContaining('/v1/embeddings') } });
    const bad = await fetch(`${url}/chat/completions`, { method: 'POST', body: 'not json' });
    expect(bad.status).toBe(400);
  });

  it('answers 500 when the reply function throws', async () => {
    const { url } = await start({
      reply: () => {
        throw new Error('boom');
      },
    });
    const failure = await generateText({ model: modelFor(url), prompt: 'x', maxRetries: 0 }).catch((error: unknown) => error);
    expect((failure as APICallError).statusCode).toBe(500);
    expect((failure as APICallError).message).toContain('boom');
  });
});
