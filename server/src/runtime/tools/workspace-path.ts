import fs from 'node:fs/promises';
import path from 'node:path';
import { ToolError } from './tool.ts';

/**
 * Resolves a tool's path argument inside the workspace. Accepts `downloads/x`, `./downloads/x` and
 * `/workspace/downloads/x` (what the model sees in the shell). Refuses anything that leaves the
 * workspace, directly or through a symbolic link anywhere along the way.
 */
export async function resolveWorkspacePath(workspaceDir: string, requested: string): Promise<string> {
  if (typeof requested !== 'string' || requested.includes('\0')) throw new ToolError('The path must be a string without NUL bytes.');
  const relative = requested.replace(/^\/workspace(\/|$)/, '');
  if (path.isAbsolute(relative)) throw new ToolError(`"${requested}" is outside the workspace; use a path like downloads/file.txt.`);
  const root = await fs.realpath(workspaceDir);
  const target = path.resolve(root, relative);
  if (target !== root && !target.startsWith(root + path.sep)) {
    throw new ToolError(`"${requested}" is outside the workspace.`);
  }
  // Walk each existing component: a link anywhere (even one pointing inside) is refused, so a link
  // made in the shell can never redirect a file tool.
  let current = root;
  for (const part of path.relative(root, target).split(path.sep).filter(Boolean)) {
    current = path.join(current, part);
    const stat = await fs.lstat(current).catch(() => undefined);
    if (!stat) break;
    if (stat.isSymbolicLink()) throw new ToolError(`"${requested}" goes through a symbolic link, which file tools do not follow.`);
  }
  return target;
}
