import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiClient, createApiClient, request } from '../support/api-client.ts';
import { createGate, type FakeModel, startFakeModel } from '../support/fake-model.ts';
import { type SpawnedConcierge, spawnConcierge } from '../support/spawn-concierge.ts';
import { newMarker } from './agent-harness.ts';

// A slow or greedy client against a real server process: headers and bodies that never finish are cut,
// connections past the cap get a 503, and a long SSE response is not mistaken for a slow request.

const HEADERS_TIMEOUT_MS = 2000;
const REQUEST_TIMEOUT_MS = 3000;
const MAX_CONNECTIONS = 16;
const DRIBBLE_EVERY_MS = 200;
/** The dribbling client gives up after this many writes (~20 s): a server that never cuts it fails the test. */
const MAX_DRIBBLES = 100;

let fake: FakeModel;
let server: SpawnedConcierge;
let api: ApiClient;
let apiKey: string;

beforeAll(async () => {
  fake = await startFakeModel();
  server = await spawnConcierge({
    llmBaseUrl: fake.url,
    env: {
      LOG_LEVEL: 'info',
      CONCIERGE_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
      CONCIERGE_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
      CONCIERGE_MAX_CONNECTIONS: String(MAX_CONNECTIONS),
    },
  });
  apiKey = (await server.createApiKey()).key;
  api = createApiClient(server.url, apiKey);
});

afterAll(async () => {
  await server?.stop();
  await fake?.close();
});

function connect(): Promise<net.Socket> {
  const { port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Writes `first`, then `piece` every DRIBBLE_EVERY_MS until the server closes the connection or MAX_DRIBBLES is reached. */
async function dribble(first: string, piece: string): Promise<{ closedByServer: boolean; dribbles: number; answer: string }> {
  const socket = await connect();
  let answer = '';
  let closed = false;
  socket.setEncoding('utf8').on('data', (chunk: string) => (answer += chunk));
  socket.on('error', () => {});
  socket.once('close', () => (closed = true));
  socket.write(first);
  let dribbles = 0;
  while (!closed && dribbles < MAX_DRIBBLES) {
    await new Promise((resolve) => setTimeout(resolve, DRIBBLE_EVERY_MS));
    if (closed) break;
    socket.write(piece);
    dribbles += 1;
  }
  const closedByServer = closed;
  socket.destroy();
  return { closedByServer, dribbles, answer };
}

describe('HTTP timeouts', () => {
  it('cuts a client that sends the headers and then dribbles the body', async () => {
    const head = [
      'POST /api/v1/tasks HTTP/1.1',
      'Host: 127.0.0.1',
      `Authorization: Bearer ${apiKey}`,
      'Content-Type: application/json',
      'Content-Length: 100000',
      '',
      '{"message":"',
    ].join('\r\n');
    const result = await dribble(head, 'a');
    expect(result.closedByServer).toBe(true);
    expect(result.dribbles).toBeLessThan(MAX_DRIBBLES);
    expect(result.answer).toMatch(/^HTTP\/1\.1 408/);
    expect(await api.call('GET', '/tasks?limit=1')).toMatchObject({ status: 200 });
  });

  it('cuts a client that never finishes its headers', async () => {
    const result = await dribble('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n', 'X-Slow: a\r\n');
    expect(result.closedByServer).toBe(true);
    expect(result.dribbles).toBeLessThan(MAX_DRIBBLES);
    expect((await request(`${server.url}/healthz`)).status).toBe(200);
  });

  it('keeps an SSE stream open past the request timeout', async () => {
    const marker = newMarker('long-stream');
    const gate = createGate();
    fake.scenario(marker, async () => {
      await gate.promise;
      return { text: 'Finally done.' };
    });
    const taskId = await api.createTask({ message: `wait ${marker}` });
    const events = api.stream(taskId, { timeoutMs: 30_000 });
    // The stream must outlive the request timeout plus Node's check interval before the reply is let go.
    const outlived = await Promise.race([
      events.then(() => false),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(true), REQUEST_TIMEOUT_MS * 2)),
    ]);
    gate.open();
    expect(outlived).toBe(true);
    const received = await events;
    expect(received.at(-1)).toMatchObject({ event: 'done', data: { finalResponse: 'Finally done.' } });
  });
});

describe('connection cap', () => {
  it('answers 503 SERVICE_UNAVAILABLE past the cap and serves again once connections close', async () => {
    const sockets: net.Socket[] = [];
    try {
      for (let index = 0; index < MAX_CONNECTIONS; index++) {
        const socket = await connect();
        socket.on('error', () => {});
        // An unfinished request keeps the connection busy (until the header timeout cuts it).
        socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n');
        sockets.push(socket);
      }
      let refused: Awaited<ReturnType<typeof request>> | undefined;
      for (let attempt = 0; attempt < 20 && !refused; attempt++) {
        const answer = await request(`${server.url}/healthz`);
        if (answer.status === 503 && answer.body?.error?.code === 'SERVICE_UNAVAILABLE') refused = answer;
      }
      expect(refused?.body).toEqual({ success: false, error: { code: 'SERVICE_UNAVAILABLE', message: expect.stringMatching(/too many open connections/) } });
    } finally {
      for (const socket of sockets) socket.destroy();
    }
    let health = 0;
    for (let attempt = 0; attempt < 50 && health !== 200; attempt++) {
      health = (await request(`${server.url}/healthz`)).status;
      if (health !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(health).toBe(200);
  });
});
