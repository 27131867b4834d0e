import { execFile } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { baseSandboxEnv, buildBwrapArgs, filterEnv, SANDBOX_UID, toBwrapArgsFile } from './build-bwrap-args.ts';
import { type CgroupSupport, type CgroupTotals, type CommandCgroup, detectCgroups } from './detect-cgroups.ts';
import { findPrivatePaths, type PrivatePaths } from './find-private-paths.ts';
import { type SandboxAccounts, writeSandboxAccounts } from './write-sandbox-accounts.ts';
import { checkWorkspaceBudget, tooDeepMessage } from '../workspace/check-workspace-budget.ts';
import { HOST_DISK_FULL_MESSAGE, hostDiskHeadroom } from '../workspace/host-disk-headroom.ts';
import { measureWorkspaceUsage } from '../workspace/measure-workspace-usage.ts';
import { withWorkspace } from '../workspace/open-workspace.ts';
import { DEFAULT_WALK_LIMITS, walkWorkspace } from '../workspace/walk-workspace.ts';
import { WorkspaceAccessError } from '../workspace/workspace-access-error.ts';
import { type CapturedProcessResult, runCapturedProcess } from './run-captured-process.ts';
import { assertWorkspace, HOST_PATH, type SandboxHostUser, toLauncherArgs } from './sandbox-launcher.ts';
import { SandboxUnavailableError } from './sandbox-unavailable-error.ts';
import { type SandboxedProcess, type SandboxSpawnOptions, spawnOnHost, spawnSandboxed } from './spawn-sandboxed.ts';
import { DEFAULT_SANDBOX_LIMITS, type SandboxLimits, toWorkspaceBudget } from './sandbox-limits.ts';

/** One command to run in a task's workspace. */
export interface SandboxRunOptions {
  workspaceDir: string;
  command: string;
  env: Record<string, string>;
  limits: SandboxLimits;
  /** Shorter than `limits.commandTimeoutMs` to stop sooner; never extends it. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Which limit stopped (or was hit by) a command. */
export type SandboxLimitName = 'timeout' | 'memory' | 'processes' | 'output' | 'file_size' | 'quota' | 'cancelled';

/** What a command did; `limit` and a plain-language `reason` when a limit stopped it. */
export interface SandboxRunResult {
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  truncated: boolean;
  limit?: SandboxLimitName;
  reason?: string;
  durationMs: number;
}

/** What this host actually enforces, for `/healthz` and the start-up log. */
export interface SandboxEnforcement {
  isolation: string;
  cgroups: 'v2' | 'v1' | 'none';
  memory: boolean;
  processes: boolean;
  cpu: boolean;
  fileSize: boolean;
  openFiles: boolean;
  network: 'none';
  /** The host uid commands run as (the server's own when it is not root). */
  hostUid: number;
  /** What all sandboxes together may use (the parent cgroup), when one could be made. */
  totals?: CgroupTotals & { cgroups: string[] };
  warnings: string[];
}

/** Runs shell commands for the agent, isolated (bwrap) or, when explicitly chosen, not (unsafe-host). */
export interface Sandbox {
  mode: 'bwrap' | 'unsafe-host';
  enforcement: SandboxEnforcement;
  /** The unprivileged host user commands run as; undefined when they run as the server's own uid. Workspaces belong to it. */
  hostUser?: SandboxHostUser;
  run(options: SandboxRunOptions): Promise<SandboxRunResult>;
  /** Starts a long-lived program (an stdio MCP server) as confined as `run`'s commands, with piped stdio. */
  spawn(options: SandboxSpawnOptions): Promise<SandboxedProcess>;
}

/** The logging the sandbox needs; the server's logger fits. */
export interface SandboxLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

/** Options for `createSandbox`; the paths exist for tests and unusual hosts. */
export interface CreateSandboxOptions {
  mode: 'bwrap' | 'unsafe-host';
  logger?: SandboxLogger;
  bwrapPath?: string;
  cgroupRoot?: string;
  /** Host uid/gid commands run as when the server is root (CONCIERGE_SANDBOX_UID/GID); see DEFAULT_SANDBOX_HOST_UID. */
  hostUid?: number;
  hostGid?: number;
  /** Caps on all sandboxes together (CONCIERGE_SANDBOX_TOTAL_*); unset fields get host-sized defaults. */
  totals?: Partial<CgroupTotals>;
}

/**
 * The host uid (and gid) sandboxed commands run as when the server is root: unused by Debian/Ubuntu's
 * allocation (regular users end at 60000, subordinate ranges start at 100000), and not `nobody`, whose
 * processes and files other daemons share.
 */
export const DEFAULT_SANDBOX_HOST_UID = 99_999;
/** A workspace with less than this free counts as full (what a file stopped at the quota leaves over). */
const FULL_SLACK_BYTES = 64 * 1024;
/** How often a running command's workspace is measured against its quota and entry limit. */
const QUOTA_WATCH_MS = 300;

const INSTALL_HINT =
  'Install bubblewrap (Debian/Ubuntu: `apt-get install bubblewrap`; Fedora: `dnf install bubblewrap`), ' +
  'or set CONCIERGE_SANDBOX=unsafe-host to run commands directly on the host without isolation (never in production).';
const SIGXFSZ_EXIT_CODE = 128 + 25;
const UNSAFE_WARNING =
  'CONCIERGE_SANDBOX=unsafe-host: shell commands run directly on the host as the server user, with NO isolation, ' +
  'network access, and no memory/process/CPU limits. Anyone who can talk to the agent can read and change this machine.';

function findExecutable(name: string, explicit?: string): string | undefined {
  const candidates = explicit ? [explicit] : [...(process.env.PATH ?? '').split(':'), '/usr/bin', '/bin'].map((dir) => path.join(dir, name));
  return candidates.find((file) => {
    try {
      accessSync(file, constants.X_OK);
      return statSync(file).isFile();
    } catch {
      return false;
    }
  });
}

function execText(file: string, args: string[]): Promise<string> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: 5000, env: { PATH: HOST_PATH } }, (_error, stdout, stderr) => resolve(`${stdout}${stderr}`.trim()));
  });
}

function megabytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** Turns what happened into the single limit the model should hear about, with a plain reason. */
function describeLimit(
  captured: CapturedProcessResult,
  limits: SandboxLimits,
  timeoutMs: number,
  events: { oomKilled: boolean; processLimitHit: boolean },
): Pick<SandboxRunResult, 'limit' | 'reason'> {
  const primary = primaryLimit(captured, limits, timeoutMs, events);
  // A fork bomb usually ends by timeout; say why it made no progress too.
  if (primary.limit && primary.limit !== 'processes' && events.processLimitHit) {
    return { ...primary, reason: `${primary.reason} (it had also hit the limit of ${limits.maxProcesses} processes)` };
  }
  return primary;
}

function primaryLimit(
  captured: CapturedProcessResult,
  limits: SandboxLimits,
  timeoutMs: number,
  events: { oomKilled: boolean; processLimitHit: boolean },
): Pick<SandboxRunResult, 'limit' | 'reason'> {
  if (captured.stoppedBy === 'cancelled') return { limit: 'cancelled', reason: 'The command was cancelled and killed' };
  if (captured.stoppedBy === 'quota') {
    return {
      limit: 'quota',
      reason: `The command was stopped because the workspace went over its budget (${limits.workspaceQuotaMb} MB, ${limits.maxWorkspaceEntries} files and folders)`,
    };
  }
  if (captured.stoppedBy === 'timeout') return { limit: 'timeout', reason: `Command timed out after ${timeoutMs} ms and was killed` };
  if (events.oomKilled) {
    return { limit: 'memory', reason: `The command ran out of memory (limit ${limits.memoryMb} MB) and was killed` };
  }
  if (captured.stoppedBy === 'output') {
    return {
      limit: 'output',
      reason: `The command kept writing output far past the ${limits.maxOutputBytes}-byte cap (${captured.outputBytes} bytes) and was killed`,
    };
  }
  if (events.processLimitHit) {
    return { limit: 'processes', reason: `The command hit the limit of ${limits.maxProcesses} processes; creating more processes failed` };
  }
  if (captured.signal === 'SIGXFSZ' || captured.exitCode === SIGXFSZ_EXIT_CODE) {
    return { limit: 'file_size', reason: `The command tried to write a file larger than ${limits.maxFileSizeMb} MB and was stopped` };
  }
  return {};
}

/** Why the workspace is over its budget (quota or entry limit), or undefined when it is within it. */
async function overBudget(workspaceDir: string, limits: SandboxLimits): Promise<string | undefined> {
  if ((await hostDiskHeadroom(workspaceDir, limits.hostDiskReserveBytes)) < FULL_SLACK_BYTES) return HOST_DISK_FULL_MESSAGE;
  const usage = await measureWorkspaceUsage(workspaceDir, { maxEntries: limits.maxWorkspaceEntries });
  if (usage.tooDeep && usage.entries <= limits.maxWorkspaceEntries) return tooDeepMessage(DEFAULT_WALK_LIMITS.maxDepth);
  if (!usage.complete || usage.entries > limits.maxWorkspaceEntries) {
    return `The workspace holds more than ${limits.maxWorkspaceEntries} files and folders, its limit; delete files or folders before running more commands`;
  }
  if (usage.bytes > limits.workspaceQuotaMb * 1024 * 1024 - FULL_SLACK_BYTES) {
    return `The workspace is full: it now uses ${megabytes(usage.bytes)} of its quota of ${limits.workspaceQuotaMb} MB; delete files before writing more`;
  }
  return undefined;
}

async function checkQuota(workspaceDir: string, limits: SandboxLimits, result: SandboxRunResult, logger?: SandboxLogger): Promise<void> {
  try {
    const reason = await overBudget(workspaceDir, limits);
    if (!reason || result.limit === 'quota') return;
    if (result.limit) result.reason = `${result.reason}. ${reason}`;
    else Object.assign(result, { limit: 'quota', reason });
  } catch (error) {
    logger?.warn({ error, workspaceDir }, 'could not measure workspace size');
  }
}

function effectiveTimeout(options: SandboxRunOptions): number {
  const cap = options.limits.commandTimeoutMs;
  return options.timeoutMs !== undefined && options.timeoutMs > 0 ? Math.min(options.timeoutMs, cap) : cap;
}

interface BwrapHost {
  bwrapPath: string;
  prlimitPath: string | undefined;
  privatePaths: PrivatePaths;
  accounts: SandboxAccounts;
  cgroups: CgroupSupport;
  setprivPath: string | undefined;
  hostUser: SandboxHostUser | undefined;
  logger?: SandboxLogger;
}

// Over budget, only plain `rm` runs (it cannot grow anything), so the agent can always clean up.
const CLEANUP_COMMAND = /^[ \t]*rm([ \t]+-[A-Za-z]+)*([ \t]+(?:'[^'\n]*'|"[^"$`\\\n]*"|[^\s;&|`$()<>'"\\]+))+[ \t]*$/;

/** The largest files of the workspace, for a refusal that says what to delete. */
async function largestFiles(workspaceDir: string, limits: SandboxLimits, count = 3): Promise<string> {
  const files: Array<{ path: string; bytes: number }> = [];
  await withWorkspace(workspaceDir, (workspace) =>
    walkWorkspace(
      workspace,
      ({ path: relative, stat }) => {
        if (stat.isFile()) files.push({ path: relative, bytes: stat.blocks * 512 });
      },
      { ...DEFAULT_WALK_LIMITS, maxEntries: limits.maxWorkspaceEntries + 1 },
    ),
  ).catch(() => undefined);
  const top = files.sort((a, b) => b.bytes - a.bytes).slice(0, count);
  return top.length > 0 ? ` Largest files: ${top.map((file) => `${file.path} (${megabytes(file.bytes)})`).join(', ')}.` : '';
}

/**
 * Before a command runs: refuses it when the workspace is already over budget (saying why and what to
 * delete), else returns the bytes still free, which cap RLIMIT_FSIZE so one file cannot run past the quota.
 */
async function workspaceHeadroom(
  options: SandboxRunOptions,
): Promise<{ refused: SandboxRunResult } | { freeBytes: number; cleanup?: true; hostLimited?: true }> {
  const { limits } = options;
  try {
    const free = await checkWorkspaceBudget(options.workspaceDir, toWorkspaceBudget(limits));
    // A file stopped by RLIMIT_FSIZE at the headroom leaves the workspace full to within a few blocks.
    if (free.bytes < FULL_SLACK_BYTES && free.hostLimited) throw new WorkspaceAccessError('too_large', HOST_DISK_FULL_MESSAGE);
    if (free.bytes < FULL_SLACK_BYTES) {
      const quotaBytes = limits.workspaceQuotaMb * 1024 * 1024;
      throw new WorkspaceAccessError(
        'too_large',
        `The workspace uses ${megabytes(quotaBytes - free.bytes)} of its ${megabytes(quotaBytes)} quota and is full. Delete files before writing more.`,
      );
    }
    return { freeBytes: free.bytes, ...(free.hostLimited ? { hostLimited: true as const } : {}) };
  } catch (error) {
    if (!(error instanceof WorkspaceAccessError)) throw error;
    if (CLEANUP_COMMAND.test(options.command)) return { freeBytes: 0, cleanup: true };
    const hint = ` Until then only plain \`rm\` commands run.${await largestFiles(options.workspaceDir, limits)}`;
    const refused: SandboxRunResult = {
      exitCode: null,
      signal: null,
      stdout: '',
      stderr: '',
      truncated: false,
      durationMs: 0,
      limit: 'quota',
      reason: `Not run: ${error.message}${hint}`,
    };
    return { refused };
  }
}

async function runInBwrap(host: BwrapHost, options: SandboxRunOptions): Promise<SandboxRunResult> {
  assertWorkspace(options.workspaceDir);
  const { limits } = options;
  const timeoutMs = effectiveTimeout(options);
  const headroom = await workspaceHeadroom(options);
  if ('refused' in headroom) return headroom.refused;
  // A cleanup run may not grow any file (RLIMIT_FSIZE 0); otherwise one file can use what is left of the quota.
  const fileSizeBytes = headroom.cleanup ? 0 : Math.min(limits.maxFileSizeMb * 1024 * 1024, Math.max(headroom.freeBytes, 4096));
  const cgroup: CommandCgroup | undefined = await host.cgroups.create(limits);
  try {
    const bwrapOptions = buildBwrapArgs({
      workspaceDir: options.workspaceDir,
      env: options.env,
      privatePaths: host.privatePaths,
      tmpfsBytes: limits.memoryMb * 1024 * 1024,
      accounts: host.accounts,
    });
    const captured = await runCapturedProcess({
      file: '/bin/sh',
      args: toLauncherArgs({
        procsFiles: cgroup?.procsFiles ?? [],
        prlimitPath: host.prlimitPath,
        fileSizeBytes,
        maxOpenFiles: limits.maxOpenFiles,
        hostUser: host.hostUser,
        setprivPath: host.setprivPath,
        bwrapPath: host.bwrapPath,
        program: ['/bin/sh', '-c', options.command],
      }),
      env: { PATH: HOST_PATH },
      // Not the server's working directory: the launcher's PWD is readable inside (/proc/1/environ).
      cwd: '/',
      timeoutMs,
      maxOutputBytes: limits.maxOutputBytes,
      signal: options.signal,
      fd3Input: toBwrapArgsFile(bwrapOptions),
      onKill: cgroup ? () => cgroup.killAll() : undefined,
      // RLIMIT_FSIZE bounds one file; many files, or several at once, are caught by measuring while it runs.
      watch: headroom.cleanup
        ? undefined
        : { intervalMs: QUOTA_WATCH_MS, exceeded: async () => (await overBudget(options.workspaceDir, limits)) !== undefined },
    });
    const events = cgroup ? await cgroup.readEvents() : { oomKilled: false, processLimitHit: false };
    const result = toRunResult(captured, limits, timeoutMs, events);
    if (result.limit === 'file_size' && fileSizeBytes < limits.maxFileSizeMb * 1024 * 1024) {
      // The file size cap was the quota's headroom (or the host's): what stopped the command is the quota.
      Object.assign(result, {
        limit: 'quota',
        reason:
          'hostLimited' in headroom
            ? `The command was stopped: ${HOST_DISK_FULL_MESSAGE}`
            : `The command tried to write past the workspace quota of ${limits.workspaceQuotaMb} MB (${megabytes(headroom.freeBytes)} were free) and was stopped; delete files before writing more`,
      });
    }
    await Promise.all([checkQuota(options.workspaceDir, limits, result, host.logger), cgroup?.remove()]);
    return result;
  } finally {
    await cgroup?.remove();
  }
}

/** The run's outcome with the limit that stopped it, if any (see `describeLimit`). */
function toRunResult(
  captured: CapturedProcessResult,
  limits: SandboxLimits,
  timeoutMs: number,
  events: Parameters<typeof describeLimit>[3],
): SandboxRunResult {
  const { exitCode, signal, stdout, stderr, truncated, durationMs } = captured;
  return { exitCode, signal, stdout, stderr, truncated, durationMs, ...describeLimit(captured, limits, timeoutMs, events) };
}

async function runOnHost(options: SandboxRunOptions, logger?: SandboxLogger): Promise<SandboxRunResult> {
  assertWorkspace(options.workspaceDir);
  const timeoutMs = effectiveTimeout(options);
  const captured = await runCapturedProcess({
    file: '/bin/sh',
    args: ['-c', options.command],
    cwd: options.workspaceDir,
    env: { ...baseSandboxEnv(options.workspaceDir), ...filterEnv(options.env) },
    timeoutMs,
    maxOutputBytes: options.limits.maxOutputBytes,
    signal: options.signal,
  });
  const result = toRunResult(captured, options.limits, timeoutMs, { oomKilled: false, processLimitHit: false });
  await checkQuota(options.workspaceDir, options.limits, result, logger);
  return result;
}

/**
 * Root never runs bubblewrap itself: commands run as a dedicated unprivileged host user, so what they
 * create is not root's and a setuid bit they set gives nothing. A non-root server runs them as itself.
 */
function resolveHostUser(options: CreateSandboxOptions, setprivPath: string | undefined, logger?: SandboxLogger): SandboxHostUser | undefined {
  if (process.getuid?.() !== 0) {
    if (options.hostUid !== undefined) logger?.warn({ hostUid: options.hostUid }, 'CONCIERGE_SANDBOX_UID is ignored: the server is not root, so commands run as its own uid');
    return undefined;
  }
  const uid = options.hostUid ?? DEFAULT_SANDBOX_HOST_UID;
  const gid = options.hostGid ?? uid;
  if (uid === 0 || gid === 0) throw new SandboxUnavailableError('CONCIERGE_SANDBOX_UID and CONCIERGE_SANDBOX_GID must not be 0: commands never run as root.');
  if (!setprivPath) {
    throw new SandboxUnavailableError('setpriv (util-linux) was not found: the server runs as root and needs it to run commands as an unprivileged user.');
  }
  return { uid, gid };
}

/** Totals for the parent cgroup: three quarters of the host's memory, 1024 processes, all cores but half of one. */
function resolveTotals(totals: Partial<CgroupTotals> = {}): CgroupTotals {
  return {
    memoryMb: totals.memoryMb || Math.max(256, Math.floor((totalmem() / 1024 / 1024) * 0.75)),
    processes: totals.processes || 1024,
    cpuPercent: totals.cpuPercent || Math.max(50, cpus().length * 100 - 50),
  };
}

async function probeBwrap(host: BwrapHost): Promise<void> {
  const workspaceDir = await mkdtemp(path.join(tmpdir(), 'concierge-sandbox-probe-'));
  try {
    if (host.hostUser) await chown(workspaceDir, host.hostUser.uid, host.hostUser.gid);
    const result = await runInBwrap(host, {
      workspaceDir,
      command: 'id -u; : > probe',
      env: {},
      limits: { ...DEFAULT_SANDBOX_LIMITS, commandTimeoutMs: 10_000, memoryMb: 256, maxProcesses: 16, maxOutputBytes: 4096, workspaceQuotaMb: 1, maxFileSizeMb: 1 },
    });
    if (result.exitCode !== 0 || result.stdout.trim() !== String(SANDBOX_UID)) {
      throw new SandboxUnavailableError(
        `bubblewrap at ${host.bwrapPath} cannot create a sandbox here (exit ${result.exitCode}: ${result.stderr.trim() || result.stdout.trim()}). ` +
          'It needs unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1, user.max_user_namespaces > 0). ' +
          INSTALL_HINT,
      );
    }
  } finally {
    await rm(workspaceDir, { recursive: true, force: true });
  }
}

/**
 * Creates the sandbox for the agent's shell. In `bwrap` mode it checks that bubblewrap really works and
 * detects which limits the host enforces; it throws `SandboxUnavailableError` (with install instructions)
 * when it cannot isolate commands.
 */
export async function createSandbox(options: CreateSandboxOptions): Promise<Sandbox> {
  const { logger } = options;
  if (options.mode === 'unsafe-host') {
    const enforcement: SandboxEnforcement = {
      isolation: 'none: unsafe-host runs commands directly on the host',
      cgroups: 'none',
      memory: false,
      processes: false,
      cpu: false,
      fileSize: false,
      openFiles: false,
      network: 'none',
      hostUid: process.getuid?.() ?? -1,
      warnings: [UNSAFE_WARNING],
    };
    logger?.warn({ sandbox: enforcement }, UNSAFE_WARNING);
    return { mode: 'unsafe-host', enforcement, run: (runOptions) => runOnHost(runOptions, logger), spawn: spawnOnHost };
  }

  const bwrapPath = findExecutable('bwrap', options.bwrapPath);
  if (!bwrapPath) throw new SandboxUnavailableError(`bubblewrap (bwrap) was not found. ${INSTALL_HINT}`);
  const prlimitPath = findExecutable('prlimit');
  const setprivPath = findExecutable('setpriv');
  const hostUser = resolveHostUser(options, setprivPath, logger);
  const [privatePaths, cgroups, version] = await Promise.all([
    findPrivatePaths('/etc'),
    detectCgroups(options.cgroupRoot, resolveTotals(options.totals)),
    execText(bwrapPath, ['--version']),
  ]);
  const accounts = writeSandboxAccounts();
  const host: BwrapHost = { bwrapPath, prlimitPath, privatePaths, accounts, cgroups, setprivPath, hostUser, logger };
  await probeBwrap(host);

  const warnings = [...cgroups.warnings];
  if (!prlimitPath) warnings.push('prlimit (util-linux) was not found: file size and open files are not limited');
  const enforcement: SandboxEnforcement = {
    isolation:
      `${version || 'bubblewrap'}: user, pid, mount, ipc, uts, cgroup and network namespaces; all capabilities dropped; ` +
      `no nested user namespaces; uid ${SANDBOX_UID} inside, host uid ${hostUser?.uid ?? process.getuid?.()} outside`,
    cgroups: cgroups.version,
    memory: cgroups.memory,
    processes: cgroups.processes,
    cpu: cgroups.cpu,
    fileSize: prlimitPath !== undefined,
    openFiles: prlimitPath !== undefined,
    network: 'none',
    hostUid: hostUser?.uid ?? process.getuid?.() ?? -1,
    ...(cgroups.parent ? { totals: { ...cgroups.parent.totals, cgroups: cgroups.parent.dirs } } : {}),
    warnings,
  };
  logger?.info({ sandbox: enforcement }, 'sandbox ready');
  for (const warning of warnings) logger?.warn({ sandbox: 'bwrap' }, warning);
  return {
    mode: 'bwrap',
    enforcement,
    hostUser,
    run: (runOptions) => runInBwrap(host, runOptions),
    spawn: (spawnOptions) => spawnSandboxed(host, spawnOptions),
  };
}
