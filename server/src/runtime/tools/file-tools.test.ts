import { execFileSync } from 'node:child_process';
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

describe('file tools against a hostile workspace', () => {
  it('refuses a FIFO at once instead of blocking on it', async () => {
    execFileSync('mkfifo', [path.join(context.workspaceDir, 'pipe')]);
    await expect(readFileTool.execute({ path: 'pipe' }, context)).rejects.toThrow('"pipe" is not a regular file (a FIFO, socket or device); it cannot be read.');
    await expect(writeFileTool.execute({ path: 'pipe', content: 'x' }, context)).rejects.toThrow(/not a regular file/);
    expect((await listDirectoryTool.execute({ path: '.' }, context)).output).toContain('pipe\tspecial\t0 bytes');
  });

  it('refuses a link to a device and a link swapped in for a parent folder', async () => {
    await fs.symlink('/dev/zero', path.join(context.workspaceDir, 'zero'));
    await expect(readFileTool.execute({ path: 'zero' }, context)).rejects.toThrow(/symbolic link/);
    await fs.mkdir(path.join(context.workspaceDir, 'downloads'));
    await fs.rm(path.join(context.workspaceDir, 'downloads'), { recursive: true });
    await fs.symlink('/etc', path.join(context.workspaceDir, 'downloads'));
    await expect(readFileTool.execute({ path: 'downloads/passwd' }, context)).rejects.toThrow(/symbolic link/);
    await expect(listDirectoryTool.execute({ path: 'downloads' }, context)).rejects.toThrow(/symbolic link/);
  });

  it('lists and reads names that are not UTF-8', async () => {
    const raw = Buffer.concat([Buffer.from(path.join(context.workspaceDir, 'uploads/')), Buffer.from([0x66, 0xff, 0xfe, 0x2e, 0x74])]);
    await fs.writeFile(raw, 'odd');
    expect((await listDirectoryTool.execute({ path: 'uploads' }, context)).output).toBe('f\uFFFD\uFFFD.t\tfile\t3 bytes');
    await expect(readFileTool.execute({ path: 'uploads/f\uFFFD\uFFFD.t' }, context)).rejects.toThrow(/does not exist/);
  });

  it('refuses a write past the workspace quota and says why', async () => {
    const small = { ...context, limits: { ...DEFAULT_SANDBOX_LIMITS, workspaceQuotaMb: 1 } };
    await fs.writeFile(path.join(context.workspaceDir, 'uploads', 'big.bin'), Buffer.alloc(900 * 1024, 1));
    await expect(writeFileTool.execute({ path: 'downloads/more.txt', content: 'y'.repeat(300 * 1024) }, small)).rejects.toThrow(
      /The workspace uses .* of its 1\.0 MB quota; 0\.3 MB more do not fit\. Delete files before writing more\./,
    );
    await expect(fs.stat(path.join(context.workspaceDir, 'downloads', 'more.txt'))).rejects.toThrow();
  });

  it('keeps a file it writes owned by the workspace owner', async () => {
    await writeFileTool.execute({ path: 'downloads/deep/er/out.txt', content: 'x' }, context);
    const workspace = await fs.stat(context.workspaceDir);
    const written = await fs.stat(path.join(context.workspaceDir, 'downloads/deep/er/out.txt'));
    expect([written.uid, written.gid]).toEqual([workspace.uid, workspace.gid]);
  });
});
