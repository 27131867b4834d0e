import fs from 'node:fs';
import type { ChildProcessHandle } from './start-child-process.ts';

/** The last lines of a log file, for an error message. */
export function readLogTail(file: string, lines = 15): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Polls `url` until it answers 2xx; fails early when `child` exits, with the tail of its log. */
export async function waitUntilReady(url: string, child: ChildProcessHandle, options: { timeoutMs: number; signal: AbortSignal }): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let lastProblem = 'no answer yet';
  while (Date.now() < deadline) {
    options.signal.throwIfAborted();
    if (child.hasExited()) {
      throw new Error(`${child.name} stopped while starting. Last lines of ${child.logFile}:\n${readLogTail(child.logFile)}`);
    }
    try {
      const response = await fetch(url, { signal: AbortSignal.any([options.signal, AbortSignal.timeout(2000)]) });
      await response.body?.cancel();
      if (response.ok) return;
      lastProblem = `HTTP ${response.status}`;
    } catch (error) {
      options.signal.throwIfAborted();
      lastProblem = error instanceof Error ? error.message : String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${child.name} did not become ready at ${url} within ${options.timeoutMs / 1000} s (${lastProblem}). See ${child.logFile}:\n${readLogTail(child.logFile)}`);
}
