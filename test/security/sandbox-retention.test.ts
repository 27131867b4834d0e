import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../server/src/store/open-database.ts';
import { type ApiClient, createApiClient } from '../support/api-client.ts';
import { type FakeModel, startFakeModel } from '../support/fake-model.ts';
import { type SpawnedConcierge, spawnConcierge } from '../support/spawn-concierge.ts';
import { runToolTask } from './agent-harness.ts';

// Workspaces do not pile up on the host forever: those of finished tasks idle past
// CONCIERGE_WORKSPACE_RETENTION_DAYS are removed, and their artifacts then answer 404, never 5xx.

let fake: FakeModel;
let server: SpawnedConcierge;
let api: ApiClient;

const shell = (command: string) => ({ name: 'run_shell_command' as const, args: { command } });

beforeAll(async () => {
  fake = await startFakeModel();
  server = await spawnConcierge({ llmBaseUrl: fake.url, env: { LOG_LEVEL: 'info', CONCIERGE_WORKSPACE_RETENTION_DAYS: '7' } });
  api = createApiClient(server.url, (await server.createApiKey()).key);
}, 120_000);

afterAll(async () => {
  await server?.stop();
  await fake?.close();
});

describe('workspace retention', () => {
  it('removes the workspace of a task idle past the retention, keeps a recent one, and answers 404 for its artifacts', async () => {
    const old = await runToolTask(api, fake, 'old', [shell('echo report > downloads/report.txt')]);
    // Red team: a tree deeper than PATH_MAX made the sweep's path-based removal fail and stop there,
    // so no later workspace of any tenant was ever removed.
    const deep = await runToolTask(api, fake, 'deep', [shell(`python3 -c "import os
for i in range(2100):
    os.mkdir('a'); os.chdir('a')
print('deep enough')"`)]);
    expect(deep.results[0]!.output).toContain('deep enough');
    const recent = await runToolTask(api, fake, 'recent', [shell('echo report > downloads/report.txt')]);
    expect(old.task.status).toBe('completed');
    const download = (taskId: string) => api.call('GET', `/tasks/${taskId}/artifacts/download?path=downloads/report.txt`);
    expect((await download(old.taskId)).status).toBe(200);

    await server.kill('SIGTERM');
    const database = await openDatabase({ dataDir: server.dataDir });
    try {
      const eightDaysAgo = new Date(Date.now() - 8 * 24 * 60 * 60 * 1000).toISOString();
      await database.db.updateTable('tasks').set({ last_activity_at: eightDaysAgo }).where('id', 'in', [old.taskId, deep.taskId]).execute();
    } finally {
      await database.close();
    }
    await server.restart();

    const oldDir = path.join(server.dataDir, 'workspaces', old.taskId);
    for (let attempt = 0; attempt < 100 && existsSync(oldDir); attempt++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(existsSync(oldDir)).toBe(false);
    const deepDir = path.join(server.dataDir, 'workspaces', deep.taskId);
    for (let attempt = 0; attempt < 100 && existsSync(deepDir); attempt++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(existsSync(deepDir)).toBe(false);
    expect(existsSync(path.join(server.dataDir, 'workspaces', recent.taskId, 'downloads', 'report.txt'))).toBe(true);

    const gone = await download(old.taskId);
    expect(gone.status).toBe(404);
    expect(gone.body).toMatchObject({ success: false, error: { code: expect.any(String) } });
    const listing = await api.call('GET', `/tasks/${old.taskId}/artifacts`);
    expect(listing.status).toBe(200);
    expect(listing.body.data.files).toEqual([]);
    expect((await download(recent.taskId)).status).toBe(200);
    // The task itself stays: its history is still there.
    expect((await api.call('GET', `/tasks/${old.taskId}`)).status).toBe(200);
  });
});
