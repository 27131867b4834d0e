import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiClient, createApiClient, request } from '../support/api-client.ts';
import { type FakeModel, startFakeModel } from '../support/fake-model.ts';
import { type SpawnedConcierge, spawnConcierge } from '../support/spawn-concierge.ts';
import { expectServerStillWorks, hostProcessesMatching, newMarker, runToolTask, scriptedReply } from './agent-harness.ts';

// A visitor who drives the agent tries to stall the server: FIFO reads, commands that ignore SIGTERM,
// several at once; then cancel and SIGTERM must still answer, and a restart must not hang again.

let fake: FakeModel;
let server: SpawnedConcierge;
let api: ApiClient;

beforeAll(async () => {
  fake = await startFakeModel();
  server = await spawnConcierge({ llmBaseUrl: fake.url });
  api = createApiClient(server.url, (await server.createApiKey()).key);
});

afterAll(async () => {
  await server?.stop();
  await fake?.close();
});

/** A shell command that ignores SIGTERM and would run for ten minutes; `tag` finds its processes on the host. */
const stubborn = (tag: string) => `trap '' TERM HUP INT; sleep 600 # ${tag}`;

describe('hostile tool calls', () => {
  it('answers FIFO reads and SIGTERM-ignoring commands in four parallel tasks with tool errors, then serves a new task', async () => {
    const runs = await Promise.all(
      [1, 2, 3, 4].map((n) =>
        runToolTask(
          api,
          fake,
          `hang-${n}`,
          [
            { name: 'run_shell_command', args: { command: 'mkfifo pipe' } },
            { name: 'read_file', args: { path: 'pipe' } },
            { name: 'run_shell_command', args: { command: stubborn(`hang-parallel-${n}`), timeoutMs: 1_000 } },
          ],
          { timeoutMs: 60_000 },
        ),
      ),
    );
    for (const run of runs) {
      expect(run.task.status).toBe('completed');
      expect(run.results.map((result) => result.status)).toEqual(['success', 'error', 'error']);
    }
    expect(hostProcessesMatching('hang-parallel-')).toEqual([]);
    await expectServerStillWorks(server.url, api, fake);
  });

  it('cancels within the request while a command that ignores SIGTERM runs, leaving no process behind', async () => {
    const marker = newMarker('cancel');
    fake.scenario(marker, scriptedReply([{ name: 'run_shell_command', args: { command: stubborn('hang-cancel') } }]));
    const taskId = await api.createTask({ message: `Run it ${marker}` });
    await api.waitForStatus(taskId, 'running');
    await api.stream(taskId, { query: '?after=0', until: (event) => event.event === 'tool_call', timeoutMs: 20_000 });
    const cancelled = await api.call('DELETE', `/tasks/${taskId}`);
    expect(cancelled.status).toBe(200);
    expect((await api.getTask(taskId)).status).toBe('cancelled');
    expect(hostProcessesMatching('hang-cancel')).toEqual([]);
    await expectServerStillWorks(server.url, api, fake);
  });

  it('exits on SIGTERM while a command that ignores SIGTERM runs, and the resumed task finishes after the restart', async () => {
    const marker = newMarker('sigterm');
    fake.scenario(marker, scriptedReply([{ name: 'run_shell_command', args: { command: stubborn('hang-sigterm'), timeoutMs: 20_000 } }], 'Resumed.'));
    const taskId = await api.createTask({ message: `Run it ${marker}` });
    await api.stream(taskId, { query: '?after=0', until: (event) => event.event === 'tool_call', timeoutMs: 20_000 });
    await server.kill('SIGTERM');
    expect(server.process.exitCode).toBe(0);
    expect(hostProcessesMatching('hang-sigterm')).toEqual([]);
    await server.restart();
    const health = await request(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    const task = await api.waitForStatus(taskId, ['completed', 'failed'], 60_000);
    expect(task.status).toBe('completed');
    expect(task.output?.content).toBe('Resumed.');
    await expectServerStillWorks(server.url, api, fake);
  });
});
