import { DEFAULT_WALK_LIMITS, walkWorkspace } from './walk-workspace.ts';
import { withWorkspace } from './open-workspace.ts';

/** What a workspace holds: disk bytes (allocated blocks, so sparse files count what they use) and entries. */
export interface WorkspaceUsage {
  bytes: number;
  entries: number;
  /** False when the tree was too large or too deep to walk whole; treat it as over any budget. */
  complete: boolean;
  /** Folders nest deeper than the walk goes (64 levels): the reason it is incomplete, if not its size. */
  tooDeep: boolean;
}

/**
 * Measures a workspace by descriptor (never following links, tolerant of files vanishing mid-walk).
 * Hard links to one file count once. `maxEntries` stops the walk early once a budget is known to be exceeded.
 */
export async function measureWorkspaceUsage(dir: string, options: { maxEntries?: number } = {}): Promise<WorkspaceUsage> {
  return withWorkspace(dir, async (workspace) => {
    const seen = new Set<string>();
    let bytes = 0;
    const rootStat = await workspace.root.stat();
    bytes += rootStat.blocks * 512;
    const summary = await walkWorkspace(
      workspace,
      ({ stat }) => {
        if (stat.nlink > 1 && !stat.isDirectory()) {
          const key = `${stat.dev}:${stat.ino}`;
          if (seen.has(key)) return;
          seen.add(key);
        }
        bytes += stat.blocks * 512;
      },
      { ...DEFAULT_WALK_LIMITS, maxEntries: options.maxEntries !== undefined ? options.maxEntries + 1 : DEFAULT_WALK_LIMITS.maxEntries },
    );
    return { bytes, entries: summary.entries, complete: summary.complete, tooDeep: summary.tooDeep };
  });
}
