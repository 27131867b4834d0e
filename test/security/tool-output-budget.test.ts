import { openDatabase } from '../../server/src/store/open-database.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiClient, createApiClient } from '../support/api-client.ts';
import { type FakeModel, startFakeModel } from '../support/fake-model.ts';
import { type SpawnedConcierge, spawnConcierge } from '../support/spawn-concierge.ts';
import { newMarker, replayEvents, type ToolResultData } from './agent-harness.ts';

// Red team: a model step with 129 calls each printing 2 MB made every save rewrite a 258 MB state,
// held the server at 100% CPU and slowed every tenant. A step now runs at most 16 calls, one result
// keeps at most 256 KB, and a turn keeps at most 2 MB of tool output in its events, state and context.

const CALLS = 40;
const PRINT_TWO_MEGABYTES = 'head -c 1000000 /dev/zero | tr "\\0" a; head -c 1000000 /dev/zero | tr "\\0" b >&2';

let fake: FakeModel;
let server: SpawnedConcierge;
let api: ApiClient;

beforeAll(async () => {
  fake = await startFakeModel();
  server = await spawnConcierge({ llmBaseUrl: fake.url, env: { LOG_LEVEL: 'warn' } });
  api = createApiClient(server.url, (await server.createApiKey()).key);
});

afterAll(async () => {
  await server?.stop();
  await fake?.close();
});

describe('tool output a turn keeps', () => {
  it('runs at most 16 calls of one step and keeps at most 2 MB of their output, so the saved state stays small', async () => {
    const marker = newMarker('many-calls');
    fake.scenario(marker, (request) => {
      const answered = request.messages.filter((message) => message.role === 'tool').length;
      if (answered > 0) return { text: 'Done with the calls.' };
      return { toolCalls: Array.from({ length: CALLS }, () => ({ name: 'run_shell_command', args: { command: PRINT_TWO_MEGABYTES } })) };
    });
    const id = await api.createTask({ message: `print a lot ${marker}` });
    const task = await api.waitForStatus(id, ['completed', 'failed'], 120_000);
    expect(task.status).toBe('completed');

    const results = (await replayEvents(api, id)).filter((event) => event.event === 'tool_result').map((event) => event.data as ToolResultData);
    expect(results).toHaveLength(CALLS);
    const refused = results.filter((result) => result.output.includes('more than 16 tool calls in one step'));
    expect(refused).toHaveLength(CALLS - 16);
    for (const result of results) expect(result.output.length).toBeLessThanOrEqual(256 * 1024);
    const kept = results.reduce((sum, result) => sum + result.output.length, 0);
    expect(kept).toBeLessThanOrEqual(2 * 1024 * 1024 + 64 * 1024);
    expect(results.some((result) => result.output.startsWith("Output not kept: this turn's tool output budget (2 MB) is used up"))).toBe(true);

    // What the model was sent on its next step is as bounded.
    const sent = fake.requestsFor(marker).at(-1)!.messages.filter((message) => message.role === 'tool');
    expect(JSON.stringify(sent).length).toBeLessThan(3 * 1024 * 1024);

    // The saved state of the task (rewritten after every call) stays a few megabytes.
    const database = await openDatabase({ dataDir: server.dataDir });
    try {
      const row = await database.db.selectFrom('tasks').select('state').where('id', '=', id).executeTakeFirstOrThrow();
      expect(row.state.length).toBeLessThan(4 * 1024 * 1024);
    } finally {
      await database.close();
    }
  }, 180_000);
});
