import { statSync } from 'node:fs';
import path from 'node:path';

/** PATH for the host-side launcher (sh, prlimit, bwrap); the sandbox sets its own. */
export const HOST_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

// Joins every cgroup named before `--`, then execs the rest; refuses to run unconfined if a join fails.
const JOIN_CGROUPS_SCRIPT =
  'while [ "$#" -gt 0 ] && [ "$1" != -- ]; do echo $$ > "$1" || { echo "sandbox: cannot join cgroup $1" >&2; exit 125; }; shift; done; shift; exec "$@"';

/** The unprivileged host user sandboxed programs run as, when the server (root) drops privileges for them. */
export interface SandboxHostUser {
  uid: number;
  gid: number;
}

/** What the launcher needs to confine one program: its cgroups, rlimits, host user and the bwrap to exec. */
export interface LauncherOptions {
  /** cgroup.procs files to join (as the server: the sandbox user may not write them). */
  procsFiles: string[];
  prlimitPath: string | undefined;
  fileSizeBytes: number;
  maxOpenFiles: number;
  /** Drop to this user with setpriv before bwrap (the server is root); undefined runs bwrap as the server. */
  hostUser: SandboxHostUser | undefined;
  setprivPath: string | undefined;
  bwrapPath: string;
  /** What bwrap runs, after its options (which it reads from fd 3). */
  program: string[];
}

/**
 * Arguments for `/bin/sh`: join the cgroups, apply the rlimits with prlimit, drop to the host user
 * (setpriv: real, effective and saved ids, no supplementary groups, no new privileges), then exec bwrap
 * with its options on fd 3. Everything before bwrap runs as the server; bwrap and the program never do
 * when a host user is set. Shell commands and long-lived sandboxed programs (stdio MCP servers) share it.
 */
export function toLauncherArgs(options: LauncherOptions): string[] {
  const rlimits = options.prlimitPath
    ? [options.prlimitPath, `--fsize=${options.fileSizeBytes}`, `--nofile=${options.maxOpenFiles}:${options.maxOpenFiles}`]
    : [];
  const { hostUser, setprivPath } = options;
  if (hostUser && !setprivPath) throw new Error('setpriv is required to run the sandbox as an unprivileged host user');
  const dropPrivileges =
    hostUser && setprivPath ? [setprivPath, `--reuid=${hostUser.uid}`, `--regid=${hostUser.gid}`, '--clear-groups', '--no-new-privs'] : [];
  return [
    '-c',
    JOIN_CGROUPS_SCRIPT,
    'sandbox-join',
    ...options.procsFiles,
    '--',
    ...rlimits,
    ...dropPrivileges,
    options.bwrapPath,
    '--args',
    '3',
    ...options.program,
  ];
}

/** Throws unless `workspaceDir` is an existing absolute directory. */
export function assertWorkspace(workspaceDir: string): void {
  if (!path.isAbsolute(workspaceDir) || !statSync(workspaceDir, { throwIfNoEntry: false })?.isDirectory()) {
    throw new Error(`Sandbox workspace ${workspaceDir} is not an existing absolute directory`);
  }
}
