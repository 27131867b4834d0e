import { existsSync, lstatSync, readlinkSync } from 'node:fs';
import type { PrivatePaths } from './find-private-paths.ts';

/** Where the workspace appears inside the sandbox. */
export const SANDBOX_WORKSPACE = '/workspace';
/** The sandbox user's home: an empty tmpfs. */
export const SANDBOX_HOME = '/home/sandbox';
/** uid and gid of the unprivileged user inside the sandbox. */
export const SANDBOX_UID = 1000;

const SANDBOX_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const SYSTEM_DIRS = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/etc'];
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** What one sandboxed command needs besides the command itself. */
export interface BwrapArgsOptions {
  workspaceDir: string;
  env: Record<string, string>;
  /** Non-world-readable paths under the system dirs, hidden inside the sandbox. */
  privatePaths: PrivatePaths;
  tmpfsBytes: number;
  /** Replacements for /etc/passwd and /etc/group (write-sandbox-accounts.ts). */
  accounts?: { passwd: string; group: string };
}

/** The environment every sandboxed command starts from; the task's env is layered on top. */
export function baseSandboxEnv(home: string): Record<string, string> {
  return { PATH: SANDBOX_PATH, HOME: home, LANG: 'C.UTF-8' };
}

/** Keeps only env entries that are valid variable names without NUL bytes (the API already refuses others). */
export function filterEnv(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter(([name, value]) => ENV_NAME.test(name) && typeof value === 'string' && !value.includes('\0')),
  );
}

/** NUL-separated form for `bwrap --args FD`: keeps env values (secrets) out of the host's process list. */
export function toBwrapArgsFile(args: string[]): Buffer {
  return Buffer.from(args.map((arg) => `${arg}\0`).join(''), 'utf8');
}

/** The bubblewrap arguments (before the command) for one isolated, network-less, unprivileged command. */
export function buildBwrapArgs(options: BwrapArgsOptions): string[] {
  const args = [
    '--unshare-all',
    '--unshare-user',
    '--uid',
    String(SANDBOX_UID),
    '--gid',
    String(SANDBOX_UID),
    '--hostname',
    'sandbox',
    '--die-with-parent',
    '--new-session',
    '--cap-drop',
    'ALL',
    // No nested user namespaces: inside one, a command would regain every capability over its own mounts.
    '--disable-userns',
  ];
  for (const dir of SYSTEM_DIRS) {
    if (!existsSync(dir)) continue;
    // /bin and /lib are links into /usr on merged-/usr systems; keep them links so the layout matches.
    if (lstatSync(dir).isSymbolicLink()) args.push('--symlink', readlinkSync(dir), dir);
    else args.push('--ro-bind', dir, dir);
  }
  // The sandbox uid maps to the server's uid outside, so owner-only files would be readable: mask them.
  for (const file of options.privatePaths.files) args.push('--ro-bind', '/dev/null', file);
  for (const dir of options.privatePaths.directories) args.push('--tmpfs', dir, '--remount-ro', dir);
  // The host's account names stay on the host: the sandbox sees root, itself and nobody.
  if (options.accounts) args.push('--ro-bind', options.accounts.passwd, '/etc/passwd', '--ro-bind', options.accounts.group, '/etc/group');
  args.push(
    '--proc',
    '/proc',
    // Host-global sysctls (core_pattern runs a program as host root) check the host uid, which the
    // sandbox user may map to: the sandbox's /proc/sys must be read-only.
    '--ro-bind',
    '/proc/sys',
    '/proc/sys',
    '--dev',
    '/dev',
    '--size',
    String(options.tmpfsBytes),
    '--tmpfs',
    '/tmp',
    '--size',
    String(options.tmpfsBytes),
    '--tmpfs',
    SANDBOX_HOME,
    '--bind',
    options.workspaceDir,
    SANDBOX_WORKSPACE,
    // bwrap's root is a scratch tmpfs; make it read-only so only /workspace, /tmp and HOME take writes.
    '--remount-ro',
    '/',
    '--chdir',
    SANDBOX_WORKSPACE,
    '--clearenv',
  );
  const env = { ...baseSandboxEnv(SANDBOX_HOME), ...filterEnv(options.env) };
  for (const [name, value] of Object.entries(env)) args.push('--setenv', name, value);
  return args;
}
