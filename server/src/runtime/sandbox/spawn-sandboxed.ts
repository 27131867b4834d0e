import { type ChildProcessByStdio, spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import type { SandboxAccounts } from './write-sandbox-accounts.ts';
import { baseSandboxEnv, buildBwrapArgs, filterEnv, toBwrapArgsFile } from './build-bwrap-args.ts';
import type { CgroupSupport, CommandCgroup } from './detect-cgroups.ts';
import type { PrivatePaths } from './find-private-paths.ts';
import { assertWorkspace, HOST_PATH, type SandboxHostUser, toLauncherArgs } from './sandbox-launcher.ts';
import type { SandboxLimits } from './sandbox-limits.ts';

/** A long-lived program (an stdio MCP server) to start in a task's sandbox, talking over stdin/stdout. */
export interface SandboxSpawnOptions {
  workspaceDir: string;
  /** Looked up on the sandbox's PATH; never run through a shell. */
  command: string;
  args: string[];
  env: Record<string, string>;
  /** Working directory inside the sandbox (default: the workspace). */
  cwd?: string;
  limits: SandboxLimits;
}

/** A running sandboxed program; `kill` stops it and everything it started. */
export interface SandboxedProcess {
  stdin: Writable;
  stdout: Readable;
  stderr: Readable;
  /** Resolves once the program has exited and its pipes are closed. */
  exited: Promise<{ exitCode: number | null; signal: string | null }>;
  /** Kills the process group (and cgroup), then removes the cgroup. Idempotent. */
  kill(): Promise<void>;
}

/** What `spawnSandboxed` needs of the host's bubblewrap setup (`createSandbox` holds it). */
export interface SandboxSpawnHost {
  bwrapPath: string;
  prlimitPath: string | undefined;
  privatePaths: PrivatePaths;
  accounts?: SandboxAccounts;
  cgroups: CgroupSupport;
  /** The unprivileged host user the sandbox runs as, when the server drops privileges. */
  hostUser: SandboxHostUser | undefined;
  setprivPath: string | undefined;
}


type Child = ChildProcessByStdio<Writable, Readable, Readable>;

function toSandboxedProcess(child: Child, cgroup: CommandCgroup | undefined): SandboxedProcess {
  const exited = new Promise<{ exitCode: number | null; signal: string | null }>((resolve) => {
    child.once('close', (exitCode, signal) => resolve({ exitCode, signal }));
    // A failed spawn emits 'error' and may never emit 'close'.
    child.once('error', () => resolve({ exitCode: null, signal: null }));
  });
  // Whatever the program left running in its process group goes with it.
  void exited.then(() => killGroup(child));
  child.stdin.on('error', () => undefined);
  let killing: Promise<void> | undefined;
  return {
    stdin: child.stdin,
    stdout: child.stdout,
    stderr: child.stderr,
    exited,
    kill() {
      killing ??= (async () => {
        killGroup(child);
        await cgroup?.killAll().catch(() => undefined);
        await cgroup?.remove().catch(() => undefined);
      })();
      return killing;
    },
  };
}

function killGroup(child: Child): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // the group is already gone
  }
}

/**
 * Starts a long-lived program inside a fresh bubblewrap sandbox, exactly as isolated as a shell command
 * (same mounts, uid, env rules, cgroup and rlimits; no network), with stdin/stdout/stderr piped.
 * Its options and env reach bwrap on fd 3, so env values (secrets) never appear in the process list; its
 * arguments do (every process's argv is public on the host), so secrets belong in env, not args.
 * Rejects only when it cannot be started at all; the program's own failure shows as an early exit.
 */
export async function spawnSandboxed(host: SandboxSpawnHost, options: SandboxSpawnOptions): Promise<SandboxedProcess> {
  assertWorkspace(options.workspaceDir);
  const { limits } = options;
  const cgroup = await host.cgroups.create(limits);
  try {
    const bwrapOptions = buildBwrapArgs({
      workspaceDir: options.workspaceDir,
      env: options.env,
      privatePaths: host.privatePaths,
      tmpfsBytes: limits.memoryMb * 1024 * 1024,
      ...(host.accounts ? { accounts: host.accounts } : {}),
    });
    // One --chdir only (bwrap warns on stderr about a second): replace the workspace default.
    const chdir = bwrapOptions.indexOf('--chdir');
    if (options.cwd && chdir >= 0) bwrapOptions[chdir + 1] = options.cwd;
    else if (options.cwd) bwrapOptions.push('--chdir', options.cwd);
    const child = spawn(
      '/bin/sh',
      toLauncherArgs({
        procsFiles: cgroup?.procsFiles ?? [],
        prlimitPath: host.prlimitPath,
        fileSizeBytes: limits.maxFileSizeMb * 1024 * 1024,
        maxOpenFiles: limits.maxOpenFiles,
        hostUser: host.hostUser,
        setprivPath: host.setprivPath,
        bwrapPath: host.bwrapPath,
        program: ['--', options.command, ...options.args],
      }),
      {
        env: { PATH: HOST_PATH },
        // Not the server's working directory: the launcher's PWD is readable inside (/proc/1/environ).
        cwd: '/',
        detached: true,
        stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
      },
    ) as unknown as Child;
    const fd3 = (child as unknown as { stdio: (Writable | null)[] }).stdio[3];
    if (fd3) {
      // A child that dies before reading its options would otherwise surface as an EPIPE crash.
      fd3.on('error', () => undefined);
      fd3.end(toBwrapArgsFile(bwrapOptions));
    }
    return toSandboxedProcess(child, cgroup);
  } catch (error) {
    await cgroup?.remove();
    throw error;
  }
}

/** The `unsafe-host` counterpart of `spawnSandboxed`: the program runs on the host in the workspace, unconfined. */
export async function spawnOnHost(options: SandboxSpawnOptions): Promise<SandboxedProcess> {
  assertWorkspace(options.workspaceDir);
  const child = spawn(options.command, options.args, {
    cwd: options.cwd ?? options.workspaceDir,
    env: { ...baseSandboxEnv(options.workspaceDir), ...filterEnv(options.env) },
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  return toSandboxedProcess(child, undefined);
}
