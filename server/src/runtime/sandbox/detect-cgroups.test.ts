import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectCgroups } from './detect-cgroups.ts';
import { DEFAULT_SANDBOX_LIMITS } from './sandbox-limits.ts';

const hostHasV1 = existsSync('/sys/fs/cgroup/pids/cgroup.procs') && !existsSync('/sys/fs/cgroup/cgroup.controllers');

describe('detectCgroups', () => {
  it('reports nothing enforced, with warnings, when there is no cgroup file system', async () => {
    const support = await detectCgroups('/nonexistent-cgroup-root');
    expect(support).toMatchObject({ version: 'none', memory: false, processes: false, cpu: false });
    expect(support.warnings.join('\n')).toMatch(/not limited/);
    expect(await support.create(DEFAULT_SANDBOX_LIMITS)).toBeUndefined();
  });

  it('creates v1 groups holding the limits, records hits, and removes them when done', async () => {
    expect(hostHasV1).toBe(true);
    const support = await detectCgroups();
    expect(support).toMatchObject({ version: 'v1', memory: true, processes: true, cpu: true, warnings: [] });
    const group = await support.create({ ...DEFAULT_SANDBOX_LIMITS, memoryMb: 64, maxProcesses: 4, cpuPercent: 50 });
    if (!group) throw new Error('no group');
    const dirs = group.procsFiles.map((file) => path.dirname(file));
    const read = (controller: string, file: string) =>
      readFileSync(path.join(dirs.find((dir) => dir.includes(`/${controller}/`)) as string, file), 'utf8').trim();
    expect(read('memory', 'memory.limit_in_bytes')).toBe(String(64 * 1024 * 1024));
    expect(read('pids', 'pids.max')).toBe('4');
    expect(read('cpu', 'cpu.cfs_quota_us')).toBe('50000');
    const joins = group.procsFiles.map((file) => `echo $$ > ${file};`).join(' ');
    spawnSync('/bin/sh', ['-c', `${joins} for i in 1 2 3 4 5 6; do sleep 1 & done; wait`], { timeout: 5000 });
    expect(await group.readEvents()).toEqual({ oomKilled: false, processLimitHit: true });
    await group.remove();
    await group.remove();
    for (const dir of dirs) expect(existsSync(dir)).toBe(false);
  });
});
