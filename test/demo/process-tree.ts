import fs from 'node:fs';

/** One line of /proc/<pid>/stat that the tests care about. */
export interface ProcessInfo {
  pid: number;
  ppid: number;
  pgid: number;
  state: string;
  command: string;
}

/** Reads /proc/<pid>/stat; `undefined` when the process is gone. */
export function readProcess(pid: number): ProcessInfo | undefined {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name may hold spaces and parentheses: the fields after it start at the last ')'.
  const close = stat.lastIndexOf(')');
  const [state, ppid, pgid] = stat.slice(close + 2).split(' ');
  let command = stat.slice(stat.indexOf('(') + 1, close);
  try {
    command = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim() || command;
  } catch {
    // Gone between the two reads: keep the short name.
  }
  return { pid, ppid: Number(ppid), pgid: Number(pgid), state: state ?? '?', command };
}

/** Every live process on the machine (zombies included). */
export function listProcesses(): ProcessInfo[] {
  return fs
    .readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map((name) => readProcess(Number(name)))
    .filter((info): info is ProcessInfo => info !== undefined);
}

/** `root` and all its descendants, by walking parent ids. */
export function listDescendants(root: number): ProcessInfo[] {
  const all = listProcesses();
  const found = new Set([root]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const info of all) {
      if (!found.has(info.pid) && found.has(info.ppid)) {
        found.add(info.pid);
        grew = true;
      }
    }
  }
  return all.filter((info) => found.has(info.pid));
}

/** Processes still alive (not zombies) that are among `pids` or belong to one of `groups`. */
export function findSurvivors(pids: number[], groups: number[]): ProcessInfo[] {
  return listProcesses().filter((info) => info.state !== 'Z' && (pids.includes(info.pid) || groups.includes(info.pgid)));
}
