import fs from 'node:fs';

/** O_CLOEXEC as /proc/self/fdinfo prints it (octal flags). */
const CLOSE_ON_EXEC = 0o2000000;

/**
 * Closes the file descriptors this process inherited open (a supervisor's log, a lock file, a pipe left
 * by whatever started it), keeping stdin, stdout, stderr and the IPC channel of a parent that forked it.
 * Node opens everything of its own close-on-exec, but an inherited descriptor without that flag would be
 * passed on to every sandboxed command, which could then read or write it as the server's user (red
 * team: a root-only file and a root-owned log, read and written from a visitor's shell). Returns the
 * descriptors closed.
 */
export function closeInheritedDescriptors(): number[] {
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc/self/fd');
  } catch {
    return []; // Not Linux: the sandbox is not available there either.
  }
  const keep = new Set([0, 1, 2]);
  const channel = (process as { channel?: { fd?: number } }).channel?.fd;
  if (channel !== undefined) keep.add(channel);
  const closed: number[] = [];
  for (const entry of entries) {
    const fd = Number(entry);
    if (!Number.isInteger(fd) || keep.has(fd)) continue;
    let flags: number;
    try {
      flags = Number.parseInt(/^flags:\s+([0-7]+)/m.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1] ?? '', 8);
    } catch {
      continue; // The directory's own descriptor, already closed.
    }
    if (Number.isNaN(flags) || (flags & CLOSE_ON_EXEC) !== 0) continue;
    try {
      fs.closeSync(fd);
      closed.push(fd);
    } catch {
      // Gone meanwhile.
    }
  }
  return closed;
}
