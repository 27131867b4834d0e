import type { ProjectConfig } from '../../store/project-config.ts';
import type { WorkspaceBudget } from '../workspace/check-workspace-budget.ts';

/** Per-project sandbox limits (`sandbox` in the project file). */
export interface SandboxLimits {
  network: 'none';
  commandTimeoutMs: number;
  memoryMb: number;
  maxProcesses: number;
  /** CPU share as a percentage of one core. */
  cpuPercent: number;
  maxOutputBytes: number;
  workspaceQuotaMb: number;
  maxFileSizeMb: number;
  maxOpenFiles: number;
  /** Files, folders and links one workspace may hold (an inode budget; the quota alone allows millions of empty files). */
  maxWorkspaceEntries: number;
  /** Free disk the host keeps for itself: a server setting (CONCIERGE_DISK_RESERVE_MB), not a project's. */
  hostDiskReserveBytes: number;
}

export const DEFAULT_SANDBOX_LIMITS: SandboxLimits = {
  network: 'none',
  commandTimeoutMs: 60_000,
  memoryMb: 512,
  maxProcesses: 64,
  cpuPercent: 100,
  maxOutputBytes: 1_048_576,
  workspaceQuotaMb: 1024,
  maxFileSizeMb: 256,
  maxOpenFiles: 256,
  maxWorkspaceEntries: 10_000,
  hostDiskReserveBytes: 0,
};

/** A project's sandbox settings over the defaults (the defaults alone without a project), with the server's disk reserve. */
export function toSandboxLimits(config: ProjectConfig | undefined, hostDiskReserveBytes = 0): SandboxLimits {
  return { ...DEFAULT_SANDBOX_LIMITS, ...config?.sandbox, hostDiskReserveBytes } as SandboxLimits;
}

/** The workspace budget (disk bytes and entries) that sandbox limits set; shell and file tools share it. */
export function toWorkspaceBudget(limits: SandboxLimits): WorkspaceBudget {
  return { quotaBytes: limits.workspaceQuotaMb * 1024 * 1024, maxEntries: limits.maxWorkspaceEntries, hostDiskReserveBytes: limits.hostDiskReserveBytes };
}
