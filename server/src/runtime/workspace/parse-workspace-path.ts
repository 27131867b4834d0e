import path from 'node:path';
import { WorkspaceAccessError } from './workspace-access-error.ts';

/**
 * Splits a path argument into segments below the workspace root. Accepts `downloads/x`, `./downloads/x`
 * and `/workspace/downloads/x` (what the model sees in the shell). `..` is resolved lexically and may not
 * climb above the root; links are never resolved here, since the walk refuses every link it meets.
 */
export function parseWorkspacePath(requested: unknown): string[] {
  if (typeof requested !== 'string' || requested.includes('\0')) {
    throw new WorkspaceAccessError('invalid', 'The path must be a string without NUL bytes.');
  }
  const relative = requested.replace(/^\/workspace(\/|$)/, '');
  if (relative.startsWith('/')) {
    throw new WorkspaceAccessError('outside', `"${requested}" is outside the workspace; use a path like downloads/file.txt.`);
  }
  const normalized = path.posix.normalize(relative === '' ? '.' : relative);
  if (normalized === '..' || normalized.startsWith('../')) throw new WorkspaceAccessError('outside', `"${requested}" is outside the workspace.`);
  return normalized.split('/').filter((segment) => segment !== '' && segment !== '.');
}
