import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_SANDBOX_LIMITS } from '../sandbox/sandbox-limits.ts';
import { listDirectoryTool, readFileTool, writeFileTool } from './file-tools.ts';
import type { ToolContext } from './tool.ts';
import { ToolError } from './tool.ts';

let root: string;
let context: ToolContext;

beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'file-tools-'));
  const workspaceDir = path.join(root, 'workspace');
  await fs.mkdir(path.join(workspaceDir, 'uploads'), { recursive: true });
  await fs.writeFile(path.join(root, 'outside.txt'), 'host secret');
  context = { taskId: 't', workspaceDir, env: {}, limits: DEFAULT_SANDBOX_LIMITS, signal: new AbortController().signal };
});
afterEach(() => fs.rm(root, { recursive: true, force: true }));

describe('file tools', () => {
  it('writes, lists and reads a file in downloads/', async () => {
    await writeFileTool.execute({ path: 'downloads/out.md', content: '# hi' }, context);
    expect((await listDirectoryTool.execute({ path: 'downloads' }, context)).output).toContain('out.md\tfile\t4 bytes');
    expect((await readFileTool.execute({ path: '/workspace/downloads/out.md' }, context)).output).toBe('# hi');
  });

  it('refuses paths that leave the workspace', async () => {
    await expect(readFileTool.execute({ path: '../outside.txt' }, context)).rejects.toThrow(ToolError);
    await expect(readFileTool.execute({ path: '/etc/passwd' }, context)).rejects.toThrow(/outside the workspace/);
    await expect(writeFileTool.execute({ path: 'downloads/../../x', content: '' }, context)).rejects.toThrow(/outside the workspace/);
  });

  it('refuses symbolic links made inside the workspace', async () => {
    await fs.symlink(path.join(root, 'outside.txt'), path.join(context.workspaceDir, 'link.txt'));
    await fs.symlink(root, path.join(context.workspaceDir, 'dirlink'));
    await expect(readFileTool.execute({ path: 'link.txt' }, context)).rejects.toThrow(/symbolic link/);
    await expect(writeFileTool.execute({ path: 'link.txt', content: 'x' }, context)).rejects.toThrow(/symbolic link/);
    await expect(writeFileTool.execute({ path: 'dirlink/new.txt', content: 'x' }, context)).rejects.toThrow(/symbolic link/);
    expect(await fs.readFile(path.join(root, 'outside.txt'), 'utf8')).toBe('host secret');
    await expect(fs.stat(path.join(root, 'new.txt'))).rejects.toThrow();
  });

  it('reports binary files by size instead of their bytes', async () => {
    await fs.writeFile(path.join(context.workspaceDir, 'uploads', 'b.bin'), Buffer.from([1, 0, 2, 3]));
    expect((await readFileTool.execute({ path: 'uploads/b.bin' }, context)).output).toBe('"uploads/b.bin" is a binary file of 4 bytes.');
  });

  it('says clearly when a file does not exist', async () => {
    await expect(readFileTool.execute({ path: 'nope.txt' }, context)).rejects.toThrow('"nope.txt" does not exist.');
  });
});
