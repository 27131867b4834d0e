import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fakeReplyFromPrompt } from './fake-reply-from-prompt.ts';
import { splitWords } from '../runtime/model/split-words.ts';

export { fakeReplyFromPrompt } from './fake-reply-from-prompt.ts';

/** A chat message as the Chat Completions API receives it. */
export type FakeChatMessage = {
  role: 'system' | 'developer' | 'user' | 'assistant' | 'tool';
  content?: string | Array<{ type: string; text?: string }> | null;
  tool_calls?: Array<{ id: string; type: 'function'; function: { name: string; arguments: string } }>;
  tool_call_id?: string;
  reasoning_content?: string;
};

/** The Chat Completions request body, as far as the fake server reads it (other fields are kept). */
export type FakeChatRequestBody = {
  model: string;
  messages: FakeChatMessage[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  tools?: Array<{ type: 'function'; function: { name: string; description?: string; parameters?: unknown } }>;
  [key: string]: unknown;
};

/** One request received by the fake server: the body plus the request headers. */
export type FakeChatRequest = FakeChatRequestBody & { headers: IncomingHttpHeaders };

/** A tool call the fake model makes; `args` is serialised to the JSON arguments string. */
export type FakeToolCall = { name: string; args: unknown; id?: string };

/**
 * What the fake model answers. `text` as an array gives the exact content chunks; `delayMs` pauses before every
 * streamed chunk (and before a non-streamed answer); `hang` never answers; `error` answers with that HTTP status
 * (and `headers`, e.g. Retry-After). Streaming only: `silent` sends the SSE headers and then nothing; `cutAfter`
 * drops the connection after that many content chunks; `streamError` ends the stream with an in-stream error chunk.
 */
export type FakeReply = {
  text?: string | string[];
  reasoning?: string;
  toolCalls?: FakeToolCall[];
  error?: { status: number; message: string; headers?: Record<string, string> };
  delayMs?: number;
  hang?: boolean;
  silent?: boolean;
  cutAfter?: number;
  streamError?: { message: string; type: string };
};

/** Options of startFakeOpenAIServer; `reply` defaults to fakeReplyFromPrompt. */
export type FakeOpenAIServerOptions = {
  reply?: (request: FakeChatRequest, index: number) => FakeReply | Promise<FakeReply>;
};

/** A running fake server; `url` ends in `/v1`, `requests` grows as requests arrive. */
export type FakeOpenAIServer = { url: string; requests: FakeChatRequest[]; close(): Promise<void> };

const ARGUMENT_PIECES = 4;
const WORDS_PER_CHUNK = 2;
const CHARS_PER_TOKEN = 4;
const MODEL_LIST_ID = 'fake-model';

/**
 * Starts an OpenAI-compatible Chat Completions server on 127.0.0.1 that speaks the real streaming format (role
 * chunk, content and `reasoning_content` deltas, tool-call arguments split across chunks, finish reason, usage
 * chunk, `[DONE]`) with replies chosen by `options.reply`.
 */
export async function startFakeOpenAIServer(options: FakeOpenAIServerOptions = {}): Promise<FakeOpenAIServer> {
  const reply = options.reply ?? fakeReplyFromPrompt;
  const requests: FakeChatRequest[] = [];
  let toolCallCount = 0;

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) sendError(response, 500, `Fake server failure: ${errorMessage(error)}`, 'server_error');
      else response.destroy();
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (request.method === 'GET' && path === '/v1/models') {
      sendJson(response, 200, {
        object: 'list',
        data: [{ id: MODEL_LIST_ID, object: 'model', created: 0, owned_by: 'concierge-tests' }],
      });
      return;
    }
    if (request.method !== 'POST' || path !== '/v1/chat/completions') {
      sendError(response, 404, `Unknown endpoint ${request.method ?? ''} ${path}`, 'invalid_request_error');
      return;
    }
    const body = parseBody(await readBody(request));
    if (body === undefined) {
      sendError(response, 400, 'The request body is not a JSON object with "model" and "messages".', 'invalid_request_error');
      return;
    }
    const chatRequest: FakeChatRequest = { ...body, headers: request.headers };
    const index = requests.length;
    requests.push(chatRequest);
    const answer = await reply(chatRequest, index);

    const closed = new AbortController();
    response.on('close', () => closed.abort());
    if (answer.hang === true) return;
    if (answer.delayMs !== undefined && answer.error !== undefined) await pause(answer.delayMs, closed.signal);
    if (answer.error !== undefined) {
      sendError(response, answer.error.status, answer.error.message, answer.error.status >= 500 ? 'server_error' : 'invalid_request_error', answer.error.headers);
      return;
    }
    const toolCalls = (answer.toolCalls ?? []).map((call) => {
      toolCallCount += 1;
      return { id: call.id ?? `call_fake_${toolCallCount}`, name: call.name, arguments: JSON.stringify(call.args ?? {}) };
    });
    const completion = { id: `chatcmpl-fake-${index + 1}`, created: Math.floor(Date.now() / 1000), model: chatRequest.model };
    const texts = typeof answer.text === 'string' ? splitWords(answer.text, WORDS_PER_CHUNK) : (answer.text ?? []);
    const reasoning = answer.reasoning ?? '';
    const finishReason = toolCalls.length > 0 ? 'tool_calls' : 'stop';
    const usage = usageOf(chatRequest, texts.join('') + toolCalls.map((call) => call.arguments).join(''), reasoning);

    if (chatRequest.stream !== true) {
      await pause(answer.delayMs ?? 0, closed.signal);
      sendJson(response, 200, {
        ...completion,
        object: 'chat.completion',
        choices: [
          {
            index: 0,
            message: {
              role: 'assistant',
              content: texts.length > 0 ? texts.join('') : null,
              ...(reasoning !== '' ? { reasoning_content: reasoning } : {}),
              ...(toolCalls.length > 0
                ? {
                    tool_calls: toolCalls.map((call) => ({
                      id: call.id,
                      type: 'function',
                      function: { name: call.name, arguments: call.arguments },
                    })),
                  }
                : {}),
              refusal: null,
            },
            logprobs: null,
            finish_reason: finishReason,
          },
        ],
        usage,
      });
      return;
    }

    const includeUsage = chatRequest.stream_options?.include_usage === true;
    const chunk = (delta: Record<string, unknown>, finish: string | null = null): Record<string, unknown> => ({
      ...completion,
      object: 'chat.completion.chunk',
      system_fingerprint: null,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
      ...(includeUsage ? { usage: null } : {}),
    });
    const chunks: Array<Record<string, unknown>> = [chunk({ role: 'assistant', content: texts.length > 0 ? '' : null })];
    for (const piece of splitWords(reasoning, WORDS_PER_CHUNK)) chunks.push(chunk({ reasoning_content: piece }));
    for (const text of texts) chunks.push(chunk({ content: text }));
    toolCalls.forEach((call, callIndex) => {
      chunks.push(
        chunk({ tool_calls: [{ index: callIndex, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }] }),
      );
      for (const piece of splitEvenly(call.arguments, ARGUMENT_PIECES)) {
        chunks.push(chunk({ tool_calls: [{ index: callIndex, function: { arguments: piece } }] }));
      }
    });
    chunks.push(chunk({}, finishReason));
    if (includeUsage) chunks.push({ ...completion, object: 'chat.completion.chunk', system_fingerprint: null, choices: [], usage });

    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    response.flushHeaders();
    if (answer.silent === true) return;
    let contentChunks = 0;
    for (const data of chunks) {
      await pause(answer.delayMs ?? 0, closed.signal);
      if (closed.signal.aborted) return;
      const content = (data.choices as Array<{ delta: { content?: unknown } }> | undefined)?.[0]?.delta.content;
      if (typeof content === 'string' && content !== '') contentChunks += 1;
      if (answer.cutAfter !== undefined && contentChunks > answer.cutAfter) {
        // Let the chunks already written reach the client, then drop the connection mid-stream.
        await pause(20, closed.signal);
        response.destroy();
        return;
      }
      if (answer.streamError !== undefined && data.choices !== undefined && (data.choices as Array<{ finish_reason: unknown }>)[0]?.finish_reason) {
        response.end(`data: ${JSON.stringify({ error: { ...answer.streamError, param: null, code: null } })}\n\n`);
        return;
      }
      response.write(`data: ${JSON.stringify(data)}\n\n`);
    }
    response.end('data: [DONE]\n\n');
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Hanging and streaming requests would otherwise keep close() waiting forever.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function parseBody(text: string): FakeChatRequestBody | undefined {
  try {
    const body: unknown = JSON.parse(text);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
    const record = body as Record<string, unknown>;
    if (typeof record.model !== 'string' || !Array.isArray(record.messages)) return undefined;
    return record as FakeChatRequestBody;
  } catch {
    return undefined;
  }
}

function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
}

function sendError(response: ServerResponse, status: number, message: string, type: string, headers?: Record<string, string>): void {
  sendJson(response, status, { error: { message, type, param: null, code: null } }, headers);
}

function usageOf(request: FakeChatRequest, output: string, reasoning: string): Record<string, unknown> {
  const promptTokens = Math.ceil(JSON.stringify(request.messages).length / CHARS_PER_TOKEN);
  const reasoningTokens = Math.ceil(reasoning.length / CHARS_PER_TOKEN);
  const completionTokens = Math.ceil(output.length / CHARS_PER_TOKEN) + reasoningTokens;
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    completion_tokens_details: { reasoning_tokens: reasoningTokens },
  };
}

function splitEvenly(text: string, pieces: number): string[] {
  const size = Math.max(1, Math.ceil(text.length / pieces));
  const result: string[] = [];
  for (let index = 0; index < text.length; index += size) result.push(text.slice(index, index + size));
  return result;
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
