import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiClient, createApiClient } from '../support/api-client.ts';
import { type FakeModel, startFakeModel } from '../support/fake-model.ts';
import { type SpawnedConcierge, spawnConcierge } from '../support/spawn-concierge.ts';
import { startSilentMcpServer } from '../../server/src/testing/start-silent-mcp-server.ts';
import { expectServerStillWorks, newMarker, runToolTask, scriptedReply, type ToolStep } from './agent-harness.ts';

// An MCP server that lists its tools and then never answers a call must not stall the task, cancel or
// the server: the call ends at the server's timeout with a tool error, or at once on cancel.

let fake: FakeModel;
let server: SpawnedConcierge;
let api: ApiClient;
let mcp: Awaited<ReturnType<typeof startSilentMcpServer>>;

beforeAll(async () => {
  mcp = await startSilentMcpServer();
  const { url } = mcp;
  fake = await startFakeModel();
  server = await spawnConcierge({ llmBaseUrl: fake.url });
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'hang-mcp-'));
  const projectFile = path.join(dir, 'projects.json');
  const projects = {
    default: { mcpServers: { silent: { type: 'http', url, timeout: 1_500 } } },
    patient: { mcpServers: { silent: { type: 'http', url, timeout: 3_600_000 } } },
  };
  await fs.writeFile(projectFile, JSON.stringify({ projects }));
  const applied = await server.cli(['projects', 'apply', projectFile]);
  if (applied.code !== 0) throw new Error(`projects apply failed: ${applied.stderr}`);
  api = createApiClient(server.url, (await server.createApiKey()).key);
});

afterAll(async () => {
  await server?.stop();
  await fake?.close();
  await mcp?.close();
});

const waitCall = { name: 'silent__wait', args: {} } as unknown as ToolStep;

describe('an MCP server that never answers', () => {
  it('answers the call with a tool error at the server timeout, in four parallel tasks, and the server goes on', async () => {
    const runs = await Promise.all([1, 2, 3, 4].map((n) => runToolTask(api, fake, `mcp-${n}`, [waitCall], { timeoutMs: 60_000 })));
    for (const run of runs) {
      expect(run.task.status).toBe('completed');
      expect(run.results).toEqual([expect.objectContaining({ toolName: 'silent__wait', status: 'error' })]);
    }
    expect(mcp.calls).toBeGreaterThanOrEqual(4);
    await expectServerStillWorks(server.url, api, fake);
  });

  it('cancels a task waiting on the call even when the server timeout is an hour', async () => {
    const patient = createApiClient(server.url, (await server.createApiKey('patient')).key);
    const marker = newMarker('mcp-cancel');
    fake.scenario(marker, scriptedReply([waitCall]));
    const taskId = await patient.createTask({ message: `Wait ${marker}` });
    await patient.stream(taskId, { query: '?after=0', until: (event) => event.event === 'tool_call', timeoutMs: 20_000 });
    const cancelled = await patient.call('DELETE', `/tasks/${taskId}`);
    expect(cancelled.status).toBe(200);
    expect((await patient.getTask(taskId)).status).toBe('cancelled');
    await expectServerStillWorks(server.url, api, fake);
  });
});
