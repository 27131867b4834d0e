import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { ToolDefinition } from './tool.ts';
import { ToolError } from './tool.ts';
import { resolveWorkspacePath } from './workspace-path.ts';

const MAX_READ_BYTES = 256 * 1024;
const MAX_WRITE_BYTES = 10 * 1024 * 1024;

/** `list_directory`: entries with name, type and size. */
export const listDirectoryTool: ToolDefinition<{ path: string }> = {
  name: 'list_directory',
  description: 'List the files and folders at a path in the task workspace (e.g. "." or "uploads").',
  inputSchema: z.object({ path: z.string().default('.') }) as z.ZodType<{ path: string }>,
  async execute({ path: requested }, context) {
    const target = await resolveWorkspacePath(context.workspaceDir, requested || '.');
    const entries = await fs.readdir(target, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
      throw new ToolError(error.code === 'ENOENT' ? `"${requested}" does not exist.` : `Cannot list "${requested}": ${error.code}`);
    });
    const lines = await Promise.all(
      entries
        .sort((a, b) => a.name.localeCompare(b.name))
        .map(async (entry) => {
          const stat = await fs.lstat(path.join(target, entry.name));
          const type = entry.isDirectory() ? 'directory' : entry.isSymbolicLink() ? 'symlink' : 'file';
          return `${type === 'directory' ? `${entry.name}/` : entry.name}\t${type}\t${stat.size} bytes`;
        }),
    );
    return { status: 'success', output: lines.length ? lines.join('\n') : '(empty directory)' };
  },
};

/** `read_file`: the text, or a note that the file is binary. */
export const readFileTool: ToolDefinition<{ path: string }> = {
  name: 'read_file',
  description: 'Read a text file from the task workspace (e.g. "uploads/data.csv").',
  inputSchema: z.object({ path: z.string() }),
  async execute({ path: requested }, context) {
    const target = await resolveWorkspacePath(context.workspaceDir, requested);
    const handle = await fs.open(target, constants.O_RDONLY | constants.O_NOFOLLOW).catch((error: NodeJS.ErrnoException) => {
      throw new ToolError(error.code === 'ENOENT' ? `"${requested}" does not exist.` : `Cannot read "${requested}": ${error.code}`);
    });
    try {
      const stat = await handle.stat();
      if (!stat.isFile()) throw new ToolError(`"${requested}" is not a regular file.`);
      const buffer = Buffer.alloc(Math.min(stat.size, MAX_READ_BYTES));
      await handle.read(buffer, 0, buffer.length, 0);
      if (buffer.includes(0)) return { status: 'success', output: `"${requested}" is a binary file of ${stat.size} bytes.` };
      const text = buffer.toString('utf8');
      const more = stat.size > MAX_READ_BYTES ? `\n[… truncated: showing ${MAX_READ_BYTES} of ${stat.size} bytes]` : '';
      return { status: 'success', output: text + more };
    } finally {
      await handle.close();
    }
  },
};

/** `write_file`: creates or replaces a file, making folders as needed. */
export const writeFileTool: ToolDefinition<{ path: string; content: string }> = {
  name: 'write_file',
  description: 'Write a text file in the task workspace. Put files meant for the user in "downloads/".',
  inputSchema: z.object({ path: z.string(), content: z.string() }),
  async execute({ path: requested, content }, context) {
    const bytes = Buffer.byteLength(content);
    if (bytes > MAX_WRITE_BYTES) throw new ToolError(`The content is ${bytes} bytes; write_file accepts at most ${MAX_WRITE_BYTES}.`);
    const target = await resolveWorkspacePath(context.workspaceDir, requested);
    await fs.mkdir(path.dirname(target), { recursive: true });
    // Re-check after mkdir: the parent chain must still be free of links.
    await resolveWorkspacePath(context.workspaceDir, requested);
    const handle = await fs
      .open(target, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o644)
      .catch((error: NodeJS.ErrnoException) => {
        throw new ToolError(`Cannot write "${requested}": ${error.code === 'ELOOP' ? 'it is a symbolic link' : error.code}`);
      });
    try {
      await handle.writeFile(content);
    } finally {
      await handle.close();
    }
    return { status: 'success', output: `Wrote ${bytes} bytes to ${path.relative(await fs.realpath(context.workspaceDir), target)}` };
  },
};
