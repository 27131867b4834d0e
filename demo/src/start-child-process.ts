import { spawn } from 'node:child_process';
import fs from 'node:fs';

/** A service the demo started, in its own process group, with its output in a log file. */
export interface ChildProcessHandle {
  name: string;
  pid: number;
  logFile: string;
  /** Settles when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  hasExited(): boolean;
  /** SIGTERM to the process, SIGKILL to its whole group after `graceMs`; idempotent. */
  stop(graceMs: number): Promise<void>;
  /** SIGKILL to the whole group, synchronously (last resort when the demo itself is exiting). */
  kill(): void;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

/**
 * Spawns `command args` detached (its own process group, so the demo can end it and everything it
 * started) with stdout and stderr appended to `logFile`.
 */
export function startChildProcess(options: {
  name: string;
  command: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  logFile: string;
}): ChildProcessHandle {
  const log = fs.openSync(options.logFile, 'w', 0o600);
  const child = spawn(options.command, options.args, { cwd: options.cwd, env: options.env, stdio: ['ignore', log, log], detached: true });
  fs.closeSync(log);
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      done = true;
      resolve({ code, signal });
    });
    child.once('error', () => {
      done = true;
      resolve({ code: null, signal: null });
    });
  });
  if (child.pid === undefined) throw new Error(`could not start ${options.name} (${options.command})`);
  const pid = child.pid;
  let stopping: Promise<void> | undefined;
  return {
    name: options.name,
    pid,
    logFile: options.logFile,
    exited,
    hasExited: () => done,
    stop(graceMs) {
      stopping ??= (async () => {
        if (!done) child.kill('SIGTERM');
        const timer = new Promise<'timeout'>((resolve) => setTimeout(resolve, graceMs, 'timeout').unref());
        if ((await Promise.race([exited, timer])) === 'timeout') signalGroup(pid, 'SIGKILL');
        await exited;
        // Anything the service started and left behind in its group goes with it.
        signalGroup(pid, 'SIGKILL');
      })();
      return stopping;
    },
    kill() {
      signalGroup(pid, 'SIGKILL');
    },
  };
}
