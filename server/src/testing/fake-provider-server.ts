import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The wire formats this fake speaks: Anthropic Messages SSE and OpenAI Responses SSE. */
export type FakeProviderWire = 'anthropic' | 'openai-responses';

/**
 * One answer. `text`: the streamed deltas. `error`: an HTTP error with the provider's error body (and headers
 * such as Retry-After). `streamError`: sent as the provider's in-stream `error` event after `text`. `cutAfter`:
 * the connection is destroyed after that many text deltas. `silent`: 200 and SSE headers, then nothing.
 */
export type FakeProviderReply = {
  text?: string[];
  error?: { status: number; type: string; message: string; headers?: Record<string, string> };
  streamError?: { type: string; message: string };
  cutAfter?: number;
  silent?: boolean;
};

/** A request the fake received: the JSON body and the headers (for key and `store` checks). */
export type FakeProviderRequest = { path: string; body: Record<string, unknown>; headers: IncomingHttpHeaders };

/** A running fake; `url` is the provider base URL to configure (ends in `/v1`). */
export type FakeProviderServer = { url: string; requests: FakeProviderRequest[]; close(): Promise<void> };

/** Starts a fake provider on 127.0.0.1 that answers each request with `reply(request, index)`. */
export async function startFakeProviderServer(
  wire: FakeProviderWire,
  reply: (request: FakeProviderRequest, index: number) => FakeProviderReply,
): Promise<FakeProviderServer> {
  const requests: FakeProviderRequest[] = [];
  const server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const received: FakeProviderRequest = { path: request.url ?? '/', body: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}'), headers: request.headers };
    const answer = reply(received, requests.length);
    requests.push(received);
    if (answer.error) {
      const { status, type, message, headers } = answer.error;
      const body = wire === 'anthropic' ? { type: 'error', error: { type, message } } : { error: { message, type, param: null, code: type } };
      response.writeHead(status, { 'content-type': 'application/json', ...headers });
      response.end(JSON.stringify(body));
      return;
    }
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    response.flushHeaders();
    if (answer.silent) return;
    const { opening, deltas, closing } = wire === 'anthropic' ? anthropicFrames(answer) : responsesFrames(answer);
    for (const frame of opening) write(response, frame);
    for (const [index, frame] of deltas.entries()) {
      if (index === answer.cutAfter) {
        // Let the sent deltas reach the client, then drop the connection mid-stream.
        await new Promise((resolve) => setTimeout(resolve, 20));
        response.destroy();
        return;
      }
      write(response, frame);
    }
    for (const frame of closing) write(response, frame);
    response.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

type Frame = { event: string; data: Record<string, unknown> };
/** A stream in three parts, so `cutAfter` counts text deltas only. */
type Frames = { opening: Frame[]; deltas: Frame[]; closing: Frame[] };

function write(response: ServerResponse, frame: Frame): void {
  response.write(`event: ${frame.event}\ndata: ${JSON.stringify(frame.data)}\n\n`);
}

/** Anthropic Messages streaming: message_start, one text block of deltas, message_delta, message_stop. */
function anthropicFrames(answer: FakeProviderReply): Frames {
  const frame = (data: Record<string, unknown>): Frame => ({ event: data.type as string, data });
  const opening = [
    frame({
      type: 'message_start',
      message: { id: 'msg_fake_1', type: 'message', role: 'assistant', model: 'claude-fake', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 12, output_tokens: 1 } },
    }),
    frame({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
  ];
  const deltas = (answer.text ?? []).map((text) => frame({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } }));
  const closing = answer.streamError
    ? [frame({ type: 'error', error: answer.streamError })]
    : [
        frame({ type: 'content_block_stop', index: 0 }),
        frame({ type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 5 } }),
        frame({ type: 'message_stop' }),
      ];
  return { opening, deltas, closing };
}

/** OpenAI Responses streaming: response.created, a message item, output_text deltas, item done, response.completed. */
function responsesFrames(answer: FakeProviderReply): Frames {
  let sequence = 0;
  const frame = (data: Record<string, unknown>): Frame => ({ event: data.type as string, data: { ...data, sequence_number: sequence++ } });
  const texts = answer.text ?? [];
  const item = { id: 'msg_fake_1', type: 'message', role: 'assistant' };
  const opening = [
    frame({ type: 'response.created', response: { id: 'resp_fake_1', object: 'response', created_at: 1_700_000_000, status: 'in_progress', model: 'gpt-fake', output: [] } }),
    frame({ type: 'response.output_item.added', output_index: 0, item: { ...item, status: 'in_progress', content: [] } }),
  ];
  const deltas = texts.map((delta) => frame({ type: 'response.output_text.delta', item_id: item.id, output_index: 0, content_index: 0, delta, logprobs: [] }));
  const closing = answer.streamError
    ? [frame({ type: 'error', code: answer.streamError.type, message: answer.streamError.message, param: null })]
    : [
        frame({ type: 'response.output_item.done', output_index: 0, item: { ...item, status: 'completed', content: [{ type: 'output_text', text: texts.join(''), annotations: [] }] } }),
        frame({
          type: 'response.completed',
          response: {
            id: 'resp_fake_1',
            object: 'response',
            created_at: 1_700_000_000,
            status: 'completed',
            model: 'gpt-fake',
            incomplete_details: null,
            usage: { input_tokens: 12, input_tokens_details: { cached_tokens: 0 }, output_tokens: 5, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 17 },
          },
        }),
      ];
  return { opening, deltas, closing };
}
