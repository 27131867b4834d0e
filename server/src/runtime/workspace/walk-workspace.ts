import { constants, type Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import fs from 'node:fs/promises';
import { displayName, entryPath, type Workspace } from './open-workspace.ts';

/** One entry met by the walk: its path below the root (display form, `/`-separated) and its lstat. */
export interface WalkedEntry {
  path: string;
  name: string;
  stat: Stats;
}

/** Bounds that keep a hostile tree (millions of entries, folders nested thousands deep) from stalling us. */
export interface WalkLimits {
  maxEntries: number;
  maxDepth: number;
}

/** How a walk ended: `complete` is false when a limit cut it short; `tooDeep` when folders nested past `maxDepth`. */
export interface WalkSummary {
  entries: number;
  complete: boolean;
  tooDeep: boolean;
}

export const DEFAULT_WALK_LIMITS: WalkLimits = { maxEntries: 200_000, maxDepth: 64 };

const SUBDIRECTORY_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/**
 * Visits every entry below the workspace root, depth first, by descriptor: folders are opened through
 * their parent's descriptor with O_NOFOLLOW, links are reported but never entered, and entries that
 * vanish mid-walk are skipped.
 */
export async function walkWorkspace(
  workspace: Workspace,
  visit: (entry: WalkedEntry) => void,
  limits: WalkLimits = DEFAULT_WALK_LIMITS,
): Promise<WalkSummary> {
  let entries = 0;
  let complete = true;
  let tooDeep = false;
  const walk = async (dir: FileHandle, prefix: string, depth: number): Promise<void> => {
    const children = await workspace.readDirectory(dir).catch(() => []);
    for (const child of children) {
      if (entries >= limits.maxEntries) {
        complete = false;
        return;
      }
      entries++;
      const name = displayName(child.name);
      const relative = prefix ? `${prefix}/${name}` : name;
      visit({ path: relative, name, stat: child.stat });
      if (!child.stat.isDirectory()) continue;
      if (depth + 1 >= limits.maxDepth) {
        complete = false;
        tooDeep = true;
        continue;
      }
      const sub = await fs.open(entryPath(dir, child.name), SUBDIRECTORY_FLAGS).catch(() => undefined);
      if (!sub) continue;
      try {
        await walk(sub, relative, depth + 1);
      } finally {
        await sub.close().catch(() => undefined);
      }
    }
  };
  const top = await workspace.openDirectory([], '.');
  try {
    await walk(top, '', 0);
  } finally {
    await top.close().catch(() => undefined);
  }
  return { entries, complete, tooDeep };
}
