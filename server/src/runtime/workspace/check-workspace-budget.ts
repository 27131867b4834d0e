import { HOST_DISK_FULL_MESSAGE, hostDiskHeadroom } from './host-disk-headroom.ts';
import { measureWorkspaceUsage } from './measure-workspace-usage.ts';
import { DEFAULT_WALK_LIMITS } from './walk-workspace.ts';
import { WorkspaceAccessError } from './workspace-access-error.ts';

/** A workspace's budget: disk bytes and entries (files, folders, links). */
export interface WorkspaceBudget {
  quotaBytes: number;
  maxEntries: number;
  /** Free disk the host keeps for itself (CONCIERGE_DISK_RESERVE_MB): no workspace writes into it. */
  hostDiskReserveBytes?: number;
}

/** What a visitor is told when folders nest deeper than the server walks: the real reason, not a count. */
export function tooDeepMessage(maxDepth: number): string {
  return `The workspace has folders nested more than ${maxDepth} levels deep, its limit; remove the deepest folders before writing more.`;
}

function megabytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/**
 * Refuses (WorkspaceAccessError `too_large`) when the workspace, plus `adding` bytes and `addingEntries`
 * entries about to be written, would exceed its budget or the host's disk reserve. Returns what is still
 * free after them, and whether the host's disk (not the quota) is what limits it.
 */
export async function checkWorkspaceBudget(
  dir: string,
  budget: WorkspaceBudget,
  adding: { bytes?: number; entries?: number } = {},
): Promise<{ bytes: number; entries: number; hostLimited: boolean }> {
  const usage = await measureWorkspaceUsage(dir, { maxEntries: budget.maxEntries });
  const bytes = adding.bytes ?? 0;
  if (usage.tooDeep && usage.entries <= budget.maxEntries) throw new WorkspaceAccessError('too_large', tooDeepMessage(DEFAULT_WALK_LIMITS.maxDepth));
  if (!usage.complete || usage.entries + (adding.entries ?? 0) > budget.maxEntries) {
    throw new WorkspaceAccessError(
      'too_large',
      `The workspace holds more than ${budget.maxEntries} files and folders, its limit; delete some before writing more.`,
    );
  }
  if (usage.bytes + bytes > budget.quotaBytes) {
    const now = `The workspace uses ${megabytes(usage.bytes)} of its ${megabytes(budget.quotaBytes)} quota`;
    throw new WorkspaceAccessError('too_large', `${bytes > 0 ? `${now}; ${megabytes(bytes)} more do not fit` : now}. Delete files before writing more.`);
  }
  const host = (await hostDiskHeadroom(dir, budget.hostDiskReserveBytes ?? 0)) - bytes;
  if (host < 0) throw new WorkspaceAccessError('too_large', HOST_DISK_FULL_MESSAGE);
  const quota = budget.quotaBytes - usage.bytes - bytes;
  return { bytes: Math.min(quota, host), entries: budget.maxEntries - usage.entries - (adding.entries ?? 0), hostLimited: host < quota };
}
