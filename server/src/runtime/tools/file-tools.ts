import { z } from 'zod';
import { toWorkspaceBudget } from '../sandbox/sandbox-limits.ts';
import { checkWorkspaceBudget } from '../workspace/check-workspace-budget.ts';
import { withWorkspace } from '../workspace/open-workspace.ts';
import { parseWorkspacePath } from '../workspace/parse-workspace-path.ts';
import { WorkspaceAccessError } from '../workspace/workspace-access-error.ts';
import type { ToolDefinition } from './tool.ts';
import { ToolError } from './tool.ts';

const MAX_READ_BYTES = 256 * 1024;
const MAX_WRITE_BYTES = 10 * 1024 * 1024;
const MAX_LISTED_ENTRIES = 1000;

/** Turns a workspace refusal into the tool error the model sees; anything else is unexpected. */
async function asToolError<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof WorkspaceAccessError) throw new ToolError(error.message);
    throw error;
  }
}

function describeType(stat: { isDirectory(): boolean; isSymbolicLink(): boolean; isFile(): boolean }): string {
  if (stat.isDirectory()) return 'directory';
  if (stat.isSymbolicLink()) return 'symlink';
  return stat.isFile() ? 'file' : 'special';
}

/** `list_directory`: entries with name, type and size. */
export const listDirectoryTool: ToolDefinition<{ path: string }> = {
  name: 'list_directory',
  description: 'List the files and folders at a path in the task workspace (e.g. "." or "uploads").',
  inputSchema: z.object({ path: z.string().default('.') }) as z.ZodType<{ path: string }>,
  execute: ({ path: requested }, context) =>
    asToolError(() =>
      withWorkspace(context.workspaceDir, async (workspace) => {
        const shown = requested || '.';
        const dir = await workspace.openDirectory(parseWorkspacePath(shown), shown);
        try {
          const entries = (await workspace.readDirectory(dir)).map(({ name, stat }) => ({ name: name.toString('utf8'), stat }));
          entries.sort((a, b) => a.name.localeCompare(b.name));
          const lines = entries.slice(0, MAX_LISTED_ENTRIES).map(({ name, stat }) => {
            const type = describeType(stat);
            return `${type === 'directory' ? `${name}/` : name}\t${type}\t${stat.size} bytes`;
          });
          if (entries.length > MAX_LISTED_ENTRIES) lines.push(`(… and ${entries.length - MAX_LISTED_ENTRIES} more entries)`);
          return { status: 'success' as const, output: lines.length ? lines.join('\n') : '(empty directory)' };
        } finally {
          await dir.close();
        }
      }),
    ),
};

/** `read_file`: the text, or a note that the file is binary. */
export const readFileTool: ToolDefinition<{ path: string }> = {
  name: 'read_file',
  description: 'Read a text file from the task workspace (e.g. "uploads/data.csv").',
  inputSchema: z.object({ path: z.string() }),
  execute: ({ path: requested }, context) =>
    asToolError(() =>
      withWorkspace(context.workspaceDir, async (workspace) => {
        const { handle, stat } = await workspace.openFile(parseWorkspacePath(requested), requested);
        try {
          const buffer = Buffer.alloc(Math.min(stat.size, MAX_READ_BYTES));
          const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
          const bytes = buffer.subarray(0, bytesRead);
          if (bytes.includes(0)) return { status: 'success' as const, output: `"${requested}" is a binary file of ${stat.size} bytes.` };
          const cut = stat.size > MAX_READ_BYTES;
          const more = cut ? `\n[… truncated: showing ${MAX_READ_BYTES} of ${stat.size} bytes]` : '';
          const text = bytes.toString('utf8');
          // A secret straddling the cut would leave its prefix at the end of the text shown.
          return { status: 'success' as const, output: (cut && context.redactor ? context.redactor.redactCut(text) : text) + more };
        } finally {
          await handle.close();
        }
      }),
    ),
};

/** `write_file`: creates or replaces a file, making folders as needed, within the workspace's budget. */
export const writeFileTool: ToolDefinition<{ path: string; content: string }> = {
  name: 'write_file',
  description: 'Write a text file in the task workspace. Put files meant for the user in "downloads/".',
  inputSchema: z.object({ path: z.string(), content: z.string() }),
  execute: ({ path: requested, content }, context) =>
    asToolError(async () => {
      const bytes = Buffer.byteLength(content);
      if (bytes > MAX_WRITE_BYTES) throw new ToolError(`The content is ${bytes} bytes; write_file accepts at most ${MAX_WRITE_BYTES}.`);
      const segments = parseWorkspacePath(requested);
      await checkWorkspaceBudget(context.workspaceDir, toWorkspaceBudget(context.limits), { bytes, entries: segments.length });
      return withWorkspace(context.workspaceDir, async (workspace) => {
        const handle = await workspace.createFile(segments, requested);
        try {
          await handle.writeFile(content);
        } finally {
          await handle.close();
        }
        return { status: 'success' as const, output: `Wrote ${bytes} bytes to ${segments.join('/')}` };
      });
    }),
};
