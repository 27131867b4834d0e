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
};

/** A project's sandbox settings over the defaults. */
export function toSandboxLimits(config: ProjectConfig): SandboxLimits {
  return { ...DEFAULT_SANDBOX_LIMITS, ...config.sandbox } as SandboxLimits;
}

const DEFAULT_MAX_WORKSPACE_ENTRIES = 10_000;

/** The workspace budget (disk bytes and entries) that sandbox limits set; shell and file tools share it. */
export function toWorkspaceBudget(limits: SandboxLimits): WorkspaceBudget {
  const maxEntries = (limits as SandboxLimits & { maxWorkspaceEntries?: number }).maxWorkspaceEntries ?? DEFAULT_MAX_WORKSPACE_ENTRIES;
  return { quotaBytes: limits.workspaceQuotaMb * 1024 * 1024, maxEntries };
}
