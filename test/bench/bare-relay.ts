/**
 * The reference for the streaming benchmark: a bare Node relay from the model to SSE that stores nothing.
 * `POST /relay {"message"}` asks the OpenAI-compatible model at MODEL_URL to stream a reply and writes
 * each content delta to the client as a Sigmic `content` event, then `done`. Run by stream-bench.ts:
 *
 *   node --import tsx test/bench/bare-relay.ts PORT MODEL_URL
 */
import http from 'node:http';

const [port, modelUrl] = process.argv.slice(2);

const server = http.createServer(async (request, response) => {
  let body = '';
  for await (const chunk of request) body += chunk;
  const { message } = JSON.parse(body) as { message: string };
  const upstream = await fetch(`${modelUrl}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'relay', stream: true, messages: [{ role: 'user', content: message }] }),
  });
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  let id = 0;
  let text = '';
  let pending = '';
  const decoder = new TextDecoder();
  for await (const bytes of upstream.body as unknown as AsyncIterable<Uint8Array>) {
    pending += decoder.decode(bytes, { stream: true });
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.startsWith('data: ') || line === 'data: [DONE]') continue;
      const delta = (JSON.parse(line.slice(6)) as { choices?: { delta?: { content?: string } }[] }).choices?.[0]?.delta?.content;
      if (!delta) continue;
      text += delta;
      response.write(`id: ${++id}\nevent: content\ndata: ${JSON.stringify({ text: delta, isPartial: true })}\n\n`);
    }
  }
  response.end(`id: ${++id}\nevent: done\ndata: ${JSON.stringify({ finalResponse: text })}\n\n`);
});
server.listen(Number(port), '127.0.0.1', () => console.log('relay listening'));
