import { readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';

/** mountinfo escapes space, tab, newline and backslash as octal (`\040`). */
function unescapeMountPath(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_match, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

/**
 * The path a sandboxed command reads for its workspace in `/proc/self/mountinfo`: the bound folder's
 * path within the file system that holds it (the kernel prints it from that file system's root; no
 * bind or namespace changes it). `/workspaces` when the data dir is a file system of its own.
 */
export function visibleWorkspacePath(workspacesDir: string, mountinfo = readFileSync('/proc/self/mountinfo', 'utf8')): string {
  const target = realpathSync(workspacesDir);
  let best: { mountPoint: string; root: string } | undefined;
  for (const line of mountinfo.split('\n')) {
    const fields = line.split(' ');
    if (fields.length < 5) continue;
    const root = unescapeMountPath(fields[3]!);
    const mountPoint = unescapeMountPath(fields[4]!);
    const inside = target === mountPoint || target.startsWith(mountPoint === '/' ? '/' : `${mountPoint}/`);
    if (inside && (!best || mountPoint.length >= best.mountPoint.length)) best = { mountPoint, root };
  }
  if (!best) return target;
  return path.posix.join(best.root, path.posix.relative(best.mountPoint, target));
}

/** A warning for /healthz and the start-up log when the sandbox can read more of the host's layout than `/workspaces`. */
export function workspacePathWarning(workspacesDir: string): string | undefined {
  const visible = visibleWorkspacePath(workspacesDir);
  if (visible === '/workspaces' || visible === '/') return undefined;
  return `Inside the sandbox, /proc/self/mountinfo shows the host path ${visible}/<task id>: put the data dir on a file system of its own (a volume mounted at it) so only /workspaces/<task id> shows`;
}
