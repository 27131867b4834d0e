import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';

/** Paths under a read-only system tree that other users may not read, split by kind. */
export interface PrivatePaths {
  files: string[];
  directories: string[];
}

const MAX_ENTRIES = 20_000;

/**
 * Lists files and directories under `root` that are not world-readable (e.g. /etc/shadow, /etc/ssl/private).
 * The sandbox user maps to the server's own uid outside, so owner-only files would be readable inside
 * unless they are masked; this finds them so the sandbox can hide them.
 */
export async function findPrivatePaths(root: string): Promise<PrivatePaths> {
  const result: PrivatePaths = { files: [], directories: [] };
  const pending = [root];
  let seen = 0;
  while (pending.length > 0 && seen < MAX_ENTRIES) {
    const dir = pending.pop() as string;
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      seen++;
      const full = path.join(dir, name);
      const stats = await lstat(full).catch(() => undefined);
      if (!stats || stats.isSymbolicLink()) continue;
      if (stats.isDirectory()) {
        if ((stats.mode & 0o005) !== 0o005) result.directories.push(full);
        else pending.push(full);
      } else if (stats.isFile() && (stats.mode & 0o004) === 0) {
        result.files.push(full);
      }
    }
  }
  return result;
}
