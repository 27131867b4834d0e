import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiClient, createApiClient, request } from '../support/api-client.ts';
import { type FakeModel, startFakeModel } from '../support/fake-model.ts';
import { type SpawnedConcierge, spawnConcierge } from '../support/spawn-concierge.ts';
import { newMarker, runToolTask, scriptedReply } from './agent-harness.ts';

// What a visitor who drives the agent's shell leaves on the host: files owned by the sandbox's host user
// (never root), setuid bits that give nothing, no view of the host's layout, and one parent cgroup that
// caps every sandbox of the server together.

const SANDBOX_UID = 99_999;
const isRoot = process.getuid?.() === 0;

let fake: FakeModel;
let server: SpawnedConcierge;
let api: ApiClient;

const shell = (command: string) => ({ name: 'run_shell_command' as const, args: { command } });

beforeAll(async () => {
  fake = await startFakeModel();
  server = await spawnConcierge({
    llmBaseUrl: fake.url,
    env: { LOG_LEVEL: 'info', CONCIERGE_SANDBOX_TOTAL_MEMORY_MB: '1536', CONCIERGE_SANDBOX_TOTAL_PROCESSES: '300', CONCIERGE_SANDBOX_TOTAL_CPU_PERCENT: '150' },
  });
  api = createApiClient(server.url, (await server.createApiKey()).key);
}, 120_000);

afterAll(async () => {
  await server?.stop();
  await fake?.close();
});

describe('the sandbox on the host', () => {
  it('leaves files the host sees as the sandbox user’s, and a setuid copy that gives no root', async () => {
    const run = await runToolTask(api, fake, 'suid', [
      shell('cp /bin/bash suid-bash && chmod u+s,g+s suid-bash && echo made > made.txt && mkdir dir && ls -ln'),
    ]);
    expect(run.task.status).toBe('completed');
    const workspace = path.join(server.dataDir, 'workspaces', run.taskId);
    const expected = isRoot ? { uid: SANDBOX_UID, gid: SANDBOX_UID } : { uid: process.getuid?.(), gid: process.getgid?.() };
    for (const name of ['suid-bash', 'made.txt', 'dir']) {
      const stats = await fs.stat(path.join(workspace, name));
      expect({ name, uid: stats.uid, gid: stats.gid }).toEqual({ name, ...expected });
      expect(stats.uid).not.toBe(0);
    }
    const suid = await fs.stat(path.join(workspace, 'suid-bash'));
    expect(suid.mode & 0o4000).toBe(0o4000);
    // Run by another unprivileged host user, the setuid bit yields the sandbox user, never root. (The copy,
    // mode and owner kept, sits outside the data dir, which only the sandbox group may traverse.)
    const outside = await fs.mkdtemp(path.join('/var/tmp', 'suid-check-'));
    try {
      await fs.chmod(outside, 0o755);
      const copy = path.join(outside, 'suid-bash');
      execFileSync('cp', ['-p', path.join(workspace, 'suid-bash'), copy]);
      expect((await fs.stat(copy)).mode & 0o4000).toBe(0o4000);
      const asNobody = isRoot ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', copy] : [copy];
      const euid = execFileSync(asNobody[0] as string, [...asNobody.slice(1), '-p', '-c', 'id -u'], { encoding: 'utf8' }).trim();
      expect(euid).not.toBe('0');
      expect(euid).toBe(String(expected.uid));
    } finally {
      await fs.rm(outside, { recursive: true, force: true });
    }
  });

  it('keeps the host layout out of /proc/self/mountinfo except the workspace’s own path on its file system', async () => {
    const other = await runToolTask(api, fake, 'sibling', [shell('echo sibling > s.txt')]);
    const run = await runToolTask(api, fake, 'mountinfo', [shell('cat /proc/self/mountinfo; cat /proc/self/mounts')]);
    expect(run.task.status).toBe('completed');
    const output = run.results[0]?.output ?? '';
    const lines = output.split('\n').filter((line) => line.includes(path.basename(server.dataDir)));
    // bind mounts show their source relative to its file system; that one field is what remains (docs/security.md).
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(` \\S*/workspaces/${run.taskId} /workspace `));
    expect(output).not.toContain(other.taskId);
    expect(output).not.toContain('staging');
    // That path is no secret from the operator: the start-up log names exactly what the sandbox can read,
    // and /healthz, which answers anyone, says so without the host path.
    const shown = lines[0]!.split(' ')[3]!.replace(`/${run.taskId}`, '');
    const warning = `Inside the sandbox, /proc/self/mountinfo shows the host path ${shown}/<task id>: put the data dir on a file system of its own (a volume mounted at it) so only /workspaces/<task id> shows`;
    expect(server.lines.some((line) => line.includes('"level":"warn"') && line.includes(warning))).toBe(true);
    const health = await request(`${server.url}/healthz`);
    expect(health.body.sandbox.warnings).toContain(warning.replace(server.dataDir, '<data dir>'));
    expect(JSON.stringify(health.body)).not.toContain(server.dataDir);
  });

  it('creates every command group under one parent group holding the configured totals', async () => {
    const health = await request(`${server.url}/healthz`);
    expect(health.body.sandbox.totals).toEqual({ memoryMb: 1536, processes: 300, cpuPercent: 150 });
    // The parent groups' folders are in the start-up log (for the operator), not in /healthz.
    const ready = JSON.parse(server.lines.find((line) => line.includes('"msg":"sandbox ready"'))!) as { sandbox: { totals: { cgroups: string[] } } };
    const totals = ready.sandbox.totals;
    const pidsParent = totals.cgroups.find((dir) => dir.includes('/pids/')) as string;
    const memoryParent = totals.cgroups.find((dir) => dir.includes('/memory/')) as string;
    const cpuParent = totals.cgroups.find((dir) => dir.includes('/cpu/')) as string;
    expect(readFileSync(path.join(pidsParent, 'pids.max'), 'utf8').trim()).toBe('300');
    expect(readFileSync(path.join(memoryParent, 'memory.limit_in_bytes'), 'utf8').trim()).toBe(String(1536 * 1024 * 1024));
    expect(readFileSync(path.join(cpuParent, 'cpu.cfs_quota_us'), 'utf8').trim()).toBe('150000');
    // A running command's own group sits inside the parent, as the host sees it.
    const marker = newMarker('cgroup');
    fake.scenario(marker, scriptedReply([shell('sleep 2')]));
    const created = await api.call('POST', '/tasks', { message: `Run it ${marker}` });
    expect(created.status).toBe(200);
    let groups: string[] = [];
    for (let attempt = 0; attempt < 200 && groups.length === 0; attempt++) {
      groups = (await fs.readdir(pidsParent)).filter((name) => name.startsWith('concierge-'));
      if (groups.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(groups.length).toBeGreaterThan(0);
    await api.waitForStatus(created.body.data.id, ['completed'], 20_000);
  });
});
