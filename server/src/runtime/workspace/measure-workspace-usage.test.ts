import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkWorkspaceBudget } from './check-workspace-budget.ts';
import { measureWorkspaceUsage } from './measure-workspace-usage.ts';
import { parseWorkspacePath } from './parse-workspace-path.ts';

let root: string;
let workspace: string;

beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'measure-'));
  workspace = path.join(root, 'workspace');
  await fs.mkdir(path.join(workspace, 'a', 'b'), { recursive: true });
});
afterEach(() => fs.rm(root, { recursive: true, force: true }));

describe('measureWorkspaceUsage', () => {
  it('counts entries and allocated bytes, a hard-linked file once, and never follows links', async () => {
    await fs.writeFile(path.join(workspace, 'a', 'b', 'data'), Buffer.alloc(256 * 1024, 1));
    await fs.link(path.join(workspace, 'a', 'b', 'data'), path.join(workspace, 'again'));
    await fs.writeFile(path.join(root, 'outside'), Buffer.alloc(4 * 1024 * 1024, 1));
    await fs.symlink(root, path.join(workspace, 'up'));
    const usage = await measureWorkspaceUsage(workspace);
    expect(usage).toMatchObject({ entries: 5, complete: true });
    expect(usage.bytes).toBeGreaterThanOrEqual(256 * 1024);
    expect(usage.bytes).toBeLessThan(1024 * 1024);
  });

  it('stops early and says so past maxEntries', async () => {
    await Promise.all(Array.from({ length: 20 }, (_, n) => fs.writeFile(path.join(workspace, `f${n}`), '')));
    expect(await measureWorkspaceUsage(workspace, { maxEntries: 5 })).toMatchObject({ entries: 6, complete: false });
  });
});

describe('parseWorkspacePath', () => {
  it('accepts the shell view of the workspace and refuses climbing out', () => {
    expect(parseWorkspacePath('/workspace/downloads/./x')).toEqual(['downloads', 'x']);
    expect(parseWorkspacePath('downloads/../uploads/y')).toEqual(['uploads', 'y']);
    expect(parseWorkspacePath('.')).toEqual([]);
    expect(() => parseWorkspacePath('../x')).toThrow('"../x" is outside the workspace.');
    expect(() => parseWorkspacePath('/etc/passwd')).toThrow(/outside the workspace/);
    expect(() => parseWorkspacePath('a\0b')).toThrow(/NUL/);
  });

  it('says folders nest too deep, not that there are too many, when a tree of a hundred levels is small', async () => {
    await fs.mkdir(path.join(workspace, ...Array.from({ length: 100 }, () => 'd')), { recursive: true });
    const usage = await measureWorkspaceUsage(workspace, { maxEntries: 10_000 });
    expect(usage).toMatchObject({ complete: false, tooDeep: true });
    expect(usage.entries).toBeLessThan(200);
    await expect(checkWorkspaceBudget(workspace, { quotaBytes: 1024 * 1024 * 1024, maxEntries: 10_000 })).rejects.toThrow(
      'The workspace has folders nested more than 64 levels deep, its limit; remove the deepest folders before writing more.',
    );
  });
});
