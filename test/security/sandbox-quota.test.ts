import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { measureWorkspaceUsage } from '../../server/src/runtime/workspace/measure-workspace-usage.ts';
import { type ApiClient, createApiClient } from '../support/api-client.ts';
import { type FakeModel, startFakeModel } from '../support/fake-model.ts';
import { type SpawnedConcierge, spawnConcierge } from '../support/spawn-concierge.ts';
import { runToolTask } from './agent-harness.ts';

// A visitor who drives the shell tries to fill the host's disk: one huge file, a preallocated one, many
// medium files, or a flood of empty ones. Each is stopped near the budget, and the next command says why.

const QUOTA_MB = 5;
const MAX_ENTRIES = 300;

let fake: FakeModel;
let server: SpawnedConcierge;
let api: ApiClient;

const shell = (command: string) => ({ name: 'run_shell_command' as const, args: { command } });

beforeAll(async () => {
  fake = await startFakeModel();
  server = await spawnConcierge({ llmBaseUrl: fake.url, env: { LOG_LEVEL: 'info' } });
  const projectFile = `${server.dataDir}.projects.json`;
  const sandbox = { workspaceQuotaMb: QUOTA_MB, maxWorkspaceEntries: MAX_ENTRIES, commandTimeoutMs: 20_000 };
  await fs.writeFile(projectFile, JSON.stringify({ projects: { default: { sandbox } } }));
  try {
    const applied = await server.cli(['projects', 'apply', projectFile]);
    if (applied.code !== 0) throw new Error(`projects apply failed: ${applied.stderr}`);
  } finally {
    await fs.rm(projectFile, { force: true });
  }
  api = createApiClient(server.url, (await server.createApiKey()).key);
}, 120_000);

afterAll(async () => {
  await server?.stop();
  await fake?.close();
});

const workspaceOf = (taskId: string) => path.join(server.dataDir, 'workspaces', taskId);

describe('the workspace budget against the agent’s shell', () => {
  it('stops dd and fallocate at the quota, and refuses the next command saying what to delete', async () => {
    const run = await runToolTask(api, fake, 'quota-big', [
      shell('dd if=/dev/zero of=big.bin bs=1M count=50 2>&1; echo "rc=$?"'),
      shell('echo next'),
      shell('rm big.bin'),
      shell('fallocate -l 100M pre.bin'),
    ]);
    expect(run.task.status).toBe('completed');
    const [big, next, cleanup, fallocate] = run.results;
    // dd dies of SIGXFSZ at the quota's headroom; the shell goes on, and the full workspace is reported.
    expect(big?.output).toMatch(/Stopped by a limit \(quota\): The workspace is full: it now uses 5\.\d MB of its quota of 5 MB/);
    expect(big?.output).toContain('rc=153');
    expect(next?.output).toMatch(/Stopped by a limit \(quota\): Not run: The workspace uses .* of its 5\.0 MB quota and is full\. Delete files/);
    expect(next?.output).toMatch(/only plain `rm` commands run\. Largest files: big\.bin \(\d/);
    expect(next?.output).not.toContain('next\n');
    expect(cleanup?.output).toContain('Exit code: 0');
    expect(fallocate?.output).toMatch(/Stopped by a limit \(quota\)/);
    const usage = await measureWorkspaceUsage(workspaceOf(run.taskId));
    expect(usage.bytes).toBeLessThanOrEqual((QUOTA_MB + 1) * 1024 * 1024);
  });

  it('stops a command that wrote many medium files past the quota, each under the file size cap', async () => {
    const run = await runToolTask(api, fake, 'quota-many', [
      // 60 × 200 kB is 12 MB, then it sleeps: the watch, not the end of the loop, has to stop it.
      shell('i=0; while [ $i -lt 60 ]; do head -c 200000 /dev/zero > f$i.bin; i=$((i+1)); done; sleep 15; echo finished'),
      shell('echo next'),
    ]);
    expect(run.task.status).toBe('completed');
    const [fill, next] = run.results;
    expect(fill?.output).toMatch(/Stopped by a limit \(quota\)/);
    expect(fill?.output).not.toContain('finished');
    expect(next?.output).toMatch(/Not run: The workspace uses .* quota( and is full)?\. Delete files/);
  });

  it('stops a flood of empty files at the entry limit, and the next command says why', async () => {
    const run = await runToolTask(api, fake, 'entries', [
      // It sleeps once past the limit: the watch, not the end of the loop, has to stop it.
      shell('mkdir flood && cd flood && i=0; while [ $i -lt 2000 ]; do : > f$i; i=$((i+1)); done; sleep 15; echo finished'),
      shell('echo next'),
      shell('rm -rf flood; echo cleaned'),
    ]);
    expect(run.task.status).toBe('completed');
    const [flood, next] = run.results;
    expect(flood?.output).toMatch(/Stopped by a limit \(quota\)/);
    expect(flood?.output).not.toContain('finished');
    expect(next?.output).toContain(`Not run: The workspace holds more than ${MAX_ENTRIES} files and folders, its limit; delete some`);
  });

  it('runs commands again once the visitor has deleted enough', async () => {
    const run = await runToolTask(api, fake, 'recover', [
      shell('head -c 8000000 /dev/zero > big.bin; echo "rc=$?"'),
      shell('touch more.txt && echo refused'),
      shell('rm big.bin'),
      shell('echo works'),
    ]);
    expect(run.results[1]?.output).toContain('Not run:');
    expect(run.results[2]?.output).toContain('Exit code: 0');
    expect(run.results[3]?.output).toContain('works');
  });
});
