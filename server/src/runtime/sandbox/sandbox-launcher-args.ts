/** The unprivileged host user sandboxed commands run as, when the server (root) drops privileges for them. */
export interface SandboxHostUser {
  uid: number;
  gid: number;
}

/** How one sandboxed process is started on the host, before bubblewrap reads its options on fd 3. */
export interface SandboxLauncherOptions {
  bwrapPath: string;
  prlimitPath: string | undefined;
  setprivPath: string | undefined;
  hostUser: SandboxHostUser | undefined;
  /** cgroup.procs files to join (as the server: the sandbox user may not write them). */
  procsFiles: string[];
  fileSizeBytes: number;
  maxOpenFiles: number;
}

// Joins every cgroup named before `--`, then execs the rest; refuses to run unconfined if a join fails.
const JOIN_CGROUPS_SCRIPT =
  'while [ "$#" -gt 0 ] && [ "$1" != -- ]; do echo $$ > "$1" || { echo "sandbox: cannot join cgroup $1" >&2; exit 125; }; shift; done; shift; exec "$@"';

/**
 * Arguments for `/bin/sh` that join the cgroups, set the rlimits, drop to the host user (setpriv: real,
 * effective and saved ids, no supplementary groups, no new privileges) and exec bubblewrap with `--args 3`.
 * Everything before bwrap runs as the server; bwrap and the command never do when a host user is set.
 */
export function sandboxLauncherArgs(options: SandboxLauncherOptions): string[] {
  const rlimits = options.prlimitPath
    ? [options.prlimitPath, `--fsize=${options.fileSizeBytes}`, `--nofile=${options.maxOpenFiles}:${options.maxOpenFiles}`]
    : [];
  const { hostUser, setprivPath } = options;
  if (hostUser && !setprivPath) throw new Error('setpriv is required to run the sandbox as an unprivileged host user');
  const dropPrivileges =
    hostUser && setprivPath ? [setprivPath, `--reuid=${hostUser.uid}`, `--regid=${hostUser.gid}`, '--clear-groups', '--no-new-privs'] : [];
  return ['-c', JOIN_CGROUPS_SCRIPT, 'sandbox-join', ...options.procsFiles, '--', ...rlimits, ...dropPrivileges, options.bwrapPath, '--args', '3'];
}
