import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiClient, createApiClient } from '../support/api-client.ts';
import { createGate, type FakeModel, startFakeModel } from '../support/fake-model.ts';
import { connectHeapInspector, type HeapInspector } from '../support/inspect-heap.ts';
import { type SpawnedConcierge, spawnConcierge } from '../support/spawn-concierge.ts';
import { newMarker } from './agent-harness.ts';

// Greedy stream clients against a real server process: clients that never read are dropped and the
// server's memory stays bounded while a task streams megabytes; streams per task and per caller are capped.

const SILENT_CLIENTS = 8;
const CHUNK = 'x'.repeat(4096);
const CHUNKS = 4096; // 16 MiB of model text, streamed as content events
const MAX_PER_TASK = 10;
const MAX_PER_PRINCIPAL = 14;
/** What the server may hold for one client that does not read before it drops it (HARD_SSE_BUFFERED_BYTES). */
const PER_CLIENT_BOUND_BYTES = 8 * 1024 * 1024;
/** Room for what a full collection leaves in flight (a model chunk, a page of SQLite rows, a log line). */
const SLACK_BYTES = 32 * 1024 * 1024;

let fake: FakeModel;
let server: SpawnedConcierge;
let api: ApiClient;
let apiKey: string;
let heap: HeapInspector;

beforeAll(async () => {
  fake = await startFakeModel();
  server = await spawnConcierge({
    llmBaseUrl: fake.url,
    // The memory test reads the server's live heap through the inspector (loopback only).
    nodeArgs: ['--inspect=127.0.0.1:0'],
    env: {
      LOG_LEVEL: 'info',
      CONCIERGE_MAX_STREAMS_PER_TASK: String(MAX_PER_TASK),
      CONCIERGE_MAX_STREAMS_PER_PRINCIPAL: String(MAX_PER_PRINCIPAL),
      CONCIERGE_STREAM_STALL_TIMEOUT_MS: '3000',
    },
  });
  apiKey = (await server.createApiKey()).key;
  api = createApiClient(server.url, apiKey);
  heap = await connectHeapInspector(server.lines);
});

afterAll(async () => {
  heap?.close();
  await server?.stop();
  await fake?.close();
});

/** A raw stream client that reads the response head and then nothing more (until `resume`). */
async function openSilentStream(taskId: string): Promise<{ socket: net.Socket; received: () => string; closed: () => boolean }> {
  const { port } = new URL(server.url);
  const socket = net.connect(Number(port), '127.0.0.1');
  socket.on('error', () => {});
  let text = '';
  let closed = false;
  socket.once('close', () => (closed = true));
  socket.setEncoding('utf8');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => socket.write(`GET /api/v1/tasks/${taskId}/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${apiKey}\r\n\r\n`));
    let paused = false;
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (!paused && text.includes('event: history_done')) {
        paused = true;
        socket.pause();
        resolve();
      }
    });
    socket.once('close', () => reject(new Error(`stream closed before history_done: ${text.slice(0, 300)}`)));
  });
  return { socket, received: () => text, closed: () => closed };
}

/** A gated task: it starts streaming only when the returned `release` is called. */
async function gatedTask(name: string, reply: { text: string | string[]; delayMs?: number }) {
  const marker = newMarker(name);
  const gate = createGate();
  fake.scenario(marker, async () => {
    await gate.promise;
    return reply;
  });
  const taskId = await api.createTask({ message: `stream ${marker}` });
  return { taskId, release: () => gate.open() };
}

/** Polls the task list, not GET /tasks/{id}: the list reads no event data, so polling adds no garbage of its own. */
async function waitUntilCompleted(taskId: string): Promise<void> {
  for (let polls = 0; polls < 240; polls++) {
    const response = await fetch(`${server.url}/api/v1/tasks?limit=50`, { headers: { Authorization: `Bearer ${apiKey}` } });
    const { data } = (await response.json()) as { data: { id: string; status: string }[] };
    if (data.find((task) => task.id === taskId)?.status === 'completed') return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`task ${taskId} did not complete`);
}

/**
 * Streams the 16 MiB reply with `silentClients` stream clients open on it that never read, and returns the
 * most memory the server kept live meanwhile (sampled after full collections, so garbage does not count).
 */
async function floodWithSilentClients(name: string, silentClients: number) {
  // Spread over several stall timeouts, so a client that reads keeps up and one that does not is cut.
  const { taskId, release } = await gatedTask(name, { text: Array.from({ length: CHUNKS }, () => CHUNK), delayMs: 2 });
  const clients = [];
  for (let index = 0; index < silentClients; index++) clients.push(await openSilentStream(taskId));
  let peakLive = await heap.liveBytes();
  let completed = false;
  const sampling = (async () => {
    while (!completed) {
      peakLive = Math.max(peakLive, await heap.liveBytes());
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  })();
  release();
  try {
    await waitUntilCompleted(taskId);
  } finally {
    completed = true;
    await sampling;
  }
  return { taskId, peakLive, clients };
}

describe('SSE backpressure', () => {
  it('drops clients that do not read and keeps the server memory bounded while a task streams 16 MiB', async () => {
    const baseline = await heap.liveBytes();
    // The same reply with nobody listening sets the bar: what the agent loop itself keeps while it streams.
    const control = await floodWithSilentClients('control', 0);
    const flood = await floodWithSilentClients('flood', SILENT_CLIENTS);
    // Read what each client was sent: the server cut every one of them before the end of the stream.
    for (const client of flood.clients) {
      client.socket.resume();
      for (let waited = 0; waited < 100 && !client.closed(); waited++) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(client.closed()).toBe(true);
      expect(client.received()).not.toContain('event: done');
      expect(client.received().length).toBeLessThan(CHUNKS * CHUNK.length);
    }
    const bar = control.peakLive - baseline;
    console.log(`server live memory: baseline ${baseline} B, peak growth ${bar} B with no client, ${flood.peakLive - baseline} B with ${SILENT_CLIENTS} silent clients`);
    // Clients never dropped would each hold the stream so far: ~17 MiB apiece by the end.
    expect(flood.peakLive - baseline).toBeLessThan(bar + SILENT_CLIENTS * PER_CLIENT_BOUND_BYTES + SLACK_BYTES);
    expect((await api.getTask(flood.taskId)).status).toBe('completed');
  }, 240_000);

  it('drops a replaying client that stops reading', async () => {
    const { taskId, release } = await gatedTask('replay', { text: Array.from({ length: 2048 }, () => CHUNK) });
    release();
    await api.waitForStatus(taskId, 'completed', 120_000);
    const { port } = new URL(server.url);
    const socket = net.connect(Number(port), '127.0.0.1');
    socket.on('error', () => {});
    let closed = false;
    socket.once('close', () => (closed = true));
    socket.once('connect', () => socket.write(`GET /api/v1/tasks/${taskId}/stream?after=0 HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${apiKey}\r\n\r\n`));
    socket.pause();
    for (let waited = 0; waited < 150 && !closed; waited++) await new Promise((resolve) => setTimeout(resolve, 100));
    let text = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
    socket.resume();
    for (let waited = 0; waited < 50 && !socket.readableEnded && !socket.destroyed; waited++) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(closed || socket.readableEnded).toBe(true);
    expect(text).not.toContain('event: done');
    socket.destroy();
  }, 120_000);
});

describe('stream caps', () => {
  it('answers 429 RATE_LIMITED past the streams per task and per caller', async () => {
    const first = await gatedTask('cap-a', { text: 'a' });
    const second = await gatedTask('cap-b', { text: 'b' });
    const third = await gatedTask('cap-c', { text: 'c' });
    const open: Awaited<ReturnType<typeof openSilentStream>>[] = [];
    try {
      for (let index = 0; index < MAX_PER_TASK; index++) open.push(await openSilentStream(first.taskId));
      const overTask = await api.call('GET', `/tasks/${first.taskId}/stream`);
      expect(overTask.status).toBe(429);
      expect(overTask.body.error).toEqual({ code: 'RATE_LIMITED', message: expect.stringContaining(`task ${first.taskId}`) });
      for (let index = MAX_PER_TASK; index < MAX_PER_PRINCIPAL; index++) open.push(await openSilentStream(second.taskId));
      const overCaller = await api.call('GET', `/tasks/${third.taskId}/stream`);
      expect(overCaller.status).toBe(429);
      expect(overCaller.body.error).toEqual({ code: 'RATE_LIMITED', message: expect.stringContaining('for this caller') });
    } finally {
      for (const client of open) client.socket.destroy();
      for (const task of [first, second, third]) task.release();
    }
    // Closed streams give their slots back.
    let status = 0;
    for (let attempt = 0; attempt < 50 && status !== 200; attempt++) {
      const events = await api.stream(third.taskId, { timeoutMs: 20_000 }).catch(() => undefined);
      status = events ? 200 : 0;
      if (!events) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(status).toBe(200);
  }, 60_000);
});
