import { chmod, chown, stat } from 'node:fs/promises';
import path from 'node:path';
import type { SandboxHostUser } from './sandbox-launcher.ts';
import { SandboxUnavailableError } from './sandbox-unavailable-error.ts';

function canTraverse(stats: { uid: number; gid: number; mode: number }, user: SandboxHostUser): boolean {
  if (stats.uid === user.uid) return (stats.mode & 0o100) !== 0;
  if (stats.gid === user.gid) return (stats.mode & 0o010) !== 0;
  return (stats.mode & 0o001) !== 0;
}

/**
 * Lets the sandbox's host user reach the workspaces (bubblewrap resolves the bind source by path as that
 * user): `from` (the data dir) down to `workspacesDir` get the sandbox group and mode 0710, traverse but
 * never list, so only a known task id leads anywhere and the 0600 files beside them stay closed.
 * Throws SandboxUnavailableError, naming the folder, when a folder above `from` is closed to that user.
 */
export async function grantSandboxTraversal(from: string, workspacesDir: string, user: SandboxHostUser): Promise<void> {
  const relative = path.relative(from, workspacesDir);
  if (relative.startsWith('..') || path.isAbsolute(relative)) throw new Error(`${workspacesDir} is not inside ${from}`);
  const granted = [from, ...relative.split(path.sep).filter(Boolean).map((_, index, parts) => path.join(from, ...parts.slice(0, index + 1)))];
  for (const dir of granted) {
    const stats = await stat(dir);
    await chown(dir, stats.uid, user.gid);
    await chmod(dir, (stats.mode & 0o7700) | 0o010);
  }
  for (let dir = path.dirname(from); ; dir = path.dirname(dir)) {
    if (!canTraverse(await stat(dir), user)) {
      throw new SandboxUnavailableError(
        `The sandbox user (uid ${user.uid}) cannot reach the data dir: ${dir} is closed to it. ` +
          `Move CONCIERGE_DATA_DIR (e.g. to /var/lib/concierge) or allow traversal there (chmod o+x ${dir}).`,
      );
    }
    if (dir === path.dirname(dir)) return;
  }
}
