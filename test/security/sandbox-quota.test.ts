import fs from 'node:fs/promises';
import os from 'node:os';
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

describe('the host disk reserve against many workspaces', () => {
  // Every workspace under its quota can still fill the disk together (many visitors, many tasks): the
  // server keeps CONCIERGE_DISK_RESERVE_MB free for itself. Here the reserve is set to leave the sandbox
  // 40 MB of this disk, far below the project's 1 GB quota.
  let reserved: SpawnedConcierge;
  let reservedApi: ApiClient;
  beforeAll(async () => {
    const disk = await fs.statfs(os.tmpdir());
    const freeMb = Math.floor((disk.bavail * disk.bsize) / 1024 / 1024);
    reserved = await spawnConcierge({ llmBaseUrl: fake.url, env: { LOG_LEVEL: 'info', CONCIERGE_DISK_RESERVE_MB: String(freeMb - 40) } });
    reservedApi = createApiClient(reserved.url, (await reserved.createApiKey()).key);
  }, 120_000);
  afterAll(async () => {
    await reserved?.stop();
  });

  it('stops a command at the reserve, refuses further writes saying the server is low on disk, and recovers after rm', async () => {
    const run = await runToolTask(reservedApi, fake, 'host-disk', [
      shell('head -c 400000000 /dev/zero > big.bin; echo "rc=$?"'),
      shell('echo next > next.txt; echo wrote'),
      { name: 'write_file' as const, args: { path: 'note.txt', content: 'hello' } },
      shell('rm big.bin'),
      shell('echo works > after.txt && cat after.txt'),
    ]);
    expect(run.task.status).toBe('completed');
    const [big, next, write, cleanup, after] = run.results;
    expect(big?.output).toMatch(/Stopped by a limit \(quota\): (The command was stopped: )?The server is running out of disk space/);
    expect(big?.output).toContain('rc=153');
    expect(next?.output).toContain('Not run: The server is running out of disk space');
    expect(next?.output).not.toContain('wrote');
    expect(write?.output).toContain('The server is running out of disk space');
    expect(cleanup?.output).toContain('Exit code: 0');
    expect(after?.output).toContain('works');
    const usage = await measureWorkspaceUsage(path.join(reserved.dataDir, 'workspaces', run.taskId));
    expect(usage.bytes).toBeLessThan(64 * 1024 * 1024);
  });
});
