import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiClient, createApiClient } from '../support/api-client.ts';
import { type FakeModel, startFakeModel } from '../support/fake-model.ts';
import { connectHeapInspector, type HeapInspector } from '../support/inspect-heap.ts';
import { type SpawnedConcierge, spawnConcierge } from '../support/spawn-concierge.ts';
import { runToolTask } from './agent-harness.ts';

// Red team: clients that open the history replay of tasks with large logs (6 MB here: three turns
// each keeping the 2 MB of tool output a turn may keep) and never read pinned each log in the
// server's heap until it died. A catch-up now holds a page and one message, a few run at once
// (two per caller), and the rest wait their turn holding nothing.

const TASKS = 4;
const STREAMS_PER_TASK = 7; // one below the per-task cap, so the other caller can still open one
// A turn keeps at most 2 MB of tool output (8 results of 256 KB); three turns give a 6 MB log.
const COMMANDS_PER_TURN = 8;
const TURNS = 3;
const PRINT_QUARTER_MEGABYTE = 'head -c 300000 /dev/zero | tr "\\0" x';
/**
 * Without the cap on catch-ups, 32 silent replays of 6 MB logs took well over a gigabyte here. Measured as
 * live memory (after full collections, through the inspector): RSS also counts garbage not yet collected.
 */
const LIVE_GROWTH_BOUND_BYTES = 128 * 1024 * 1024;

let fake: FakeModel;
let server: SpawnedConcierge;
let attacker: { api: ApiClient; key: string };
let other: ApiClient;
let heap: HeapInspector;

beforeAll(async () => {
  fake = await startFakeModel();
  server = await spawnConcierge({ llmBaseUrl: fake.url, env: { LOG_LEVEL: 'warn' }, nodeArgs: ['--inspect=127.0.0.1:0'] });
  const key = (await server.createApiKey()).key;
  attacker = { api: createApiClient(server.url, key), key };
  other = createApiClient(server.url, (await server.createApiKey()).key);
  heap = await connectHeapInspector(server.lines);
}, 120_000);

afterAll(async () => {
  heap?.close();
  await server?.stop();
  await fake?.close();
});

/** Asks for a task's stream from the start and never reads a byte of the answer. */
function openSilentReplay(taskId: string): net.Socket {
  const { port } = new URL(server.url);
  const socket = net.connect(Number(port), '127.0.0.1');
  socket.on('error', () => {});
  socket.pause();
  socket.once('connect', () => socket.write(`GET /api/v1/tasks/${taskId}/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${attacker.key}\r\n\r\n`));
  return socket;
}

describe('history replays to clients that do not read', () => {
  it('keep the server memory bounded and let another caller replay the same large task meanwhile', async () => {
    const steps = Array.from({ length: COMMANDS_PER_TURN }, () => ({ name: 'run_shell_command' as const, args: { command: PRINT_QUARTER_MEGABYTE } }));
    const taskIds: string[] = [];
    for (let index = 0; index < TASKS; index++) {
      const run = await runToolTask(attacker.api, fake, `big-log-${index}`, steps, { timeoutMs: 120_000 });
      expect(run.task.status).toBe('completed');
      expect(run.results.map((result) => result.output.length).every((length) => length > 250_000)).toBe(true);
      for (let turn = 1; turn < TURNS; turn++) {
        const followUp = await attacker.api.call('POST', `/tasks/${run.taskId}/messages`, { message: `Again ${run.marker}` });
        expect(followUp.status).toBe(200);
        expect((await attacker.api.waitForStatus(run.taskId, ['completed', 'failed'], 120_000)).status).toBe('completed');
      }
      taskIds.push(run.taskId);
    }
    const baseline = await heap.liveBytes();
    let peak = baseline;
    const sockets: net.Socket[] = [];
    try {
      for (const taskId of taskIds) for (let index = 0; index < STREAMS_PER_TASK; index++) sockets.push(openSilentReplay(taskId));
      // Let every catch-up that can start read its log and fill what the sockets take.
      for (let sample = 0; sample < 40; sample++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        peak = Math.max(peak, await heap.liveBytes());
      }
      // Another caller is not queued behind the silent ones: it gets the whole history of the same task.
      const events = await other.stream(taskIds[0]!, { timeoutMs: 30_000 });
      peak = Math.max(peak, await heap.liveBytes());
      const history = events.filter((event) => event.event === 'history_message');
      expect(history).toHaveLength(2 * TURNS);
      expect(events.at(-1)).toMatchObject({ event: 'history_done', data: { messageCount: 2 * TURNS, isStreaming: false } });
    } finally {
      for (const socket of sockets) socket.destroy();
    }
    console.log(`server live memory: baseline ${baseline} B, peak growth ${peak - baseline} B with ${sockets.length} silent replays`);
    expect(peak - baseline).toBeLessThan(LIVE_GROWTH_BOUND_BYTES);
    expect((await other.call('GET', '/tasks?limit=1')).status).toBe(200);
  }, 240_000);
});
