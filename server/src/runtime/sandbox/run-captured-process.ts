import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';

/** How to start one process and when to stop it. */
export interface CapturedProcessOptions {
  file: string;
  args: string[];
  cwd?: string;
  env: Record<string, string>;
  timeoutMs: number;
  /** Bytes kept per stream; the rest is read and discarded. */
  maxOutputBytes: number;
  signal?: AbortSignal;
  /** Extra killing done alongside the process-group kill (e.g. every process in a cgroup). */
  onKill?: () => Promise<void>;
  /** Written to the child's fd 3 and closed (bwrap reads its options there, out of sight of `ps`). */
  fd3Input?: Buffer;
  /** Polled while the process runs; when `exceeded` resolves true the group is killed (stoppedBy 'quota'). */
  watch?: { intervalMs: number; exceeded: () => Promise<boolean> };
}

/** What the process did, and which of our own limits stopped it, if any. */
export interface CapturedProcessResult {
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  truncated: boolean;
  stoppedBy?: 'timeout' | 'output' | 'cancelled' | 'quota';
  /** Total bytes the process wrote to stdout and stderr, kept or not. */
  outputBytes: number;
  durationMs: number;
}

/** A command that keeps writing this many times its cap is killed instead of being drained forever. */
export const OUTPUT_FLOOD_FACTOR = 8;
const MIN_FLOOD_BYTES = 4 * 1024 * 1024;
/** After the main process exits, how long stragglers may hold the pipes open before we stop reading. */
const PIPE_GRACE_MS = 500;

class CappedBuffer {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  truncated = false;

  constructor(private readonly cap: number) {}

  push(chunk: Buffer): void {
    const room = this.cap - this.kept;
    if (room <= 0) {
      this.truncated = true;
      return;
    }
    const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
    if (part.length < chunk.length) this.truncated = true;
    this.chunks.push(part);
    this.kept += part.length;
  }

  toString(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

/** Runs `watch.exceeded` every `intervalMs` (one check at a time) until `done()`; calls `onExceeded` once. */
function startWatch(watch: NonNullable<CapturedProcessOptions['watch']>, done: () => boolean, onExceeded: () => void): { stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const tick = async () => {
    if (stopped || done()) return;
    const exceeded = await watch.exceeded().catch(() => false);
    if (stopped || done()) return;
    if (exceeded) onExceeded();
    else timer = setTimeout(tick, watch.intervalMs);
  };
  timer = setTimeout(tick, watch.intervalMs);
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/**
 * Spawns a process in its own process group, captures capped stdout/stderr, and kills the whole group on
 * timeout, cancellation or an output flood. Never rejects for the command's own failures.
 */
export function runCapturedProcess(options: CapturedProcessOptions): Promise<CapturedProcessResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  if (options.signal?.aborted) {
    return Promise.resolve({
      exitCode: null,
      signal: null,
      stdout: '',
      stderr: '',
      truncated: false,
      stoppedBy: 'cancelled',
      outputBytes: 0,
      durationMs: 0,
    });
  }
  return new Promise((resolve, reject) => {
    const child = spawn(options.file, options.args, {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: options.fd3Input ? ['ignore', 'pipe', 'pipe', 'pipe'] : ['ignore', 'pipe', 'pipe'],
    });
    const fd3 = child.stdio[3];
    if (options.fd3Input && fd3 && 'end' in fd3) {
      // A child that dies before reading its options would otherwise surface as an EPIPE crash.
      fd3.on('error', () => undefined);
      fd3.end(options.fd3Input);
    }
    const stdout = new CappedBuffer(options.maxOutputBytes);
    const stderr = new CappedBuffer(options.maxOutputBytes);
    const floodBytes = Math.max(options.maxOutputBytes * OUTPUT_FLOOD_FACTOR, options.maxOutputBytes + MIN_FLOOD_BYTES);
    let outputBytes = 0;
    let stoppedBy: CapturedProcessResult['stoppedBy'];
    let exit: { code: number | null; signal: string | null } | undefined;
    let settled = false;
    let graceTimer: NodeJS.Timeout | undefined;
    const killing: Promise<void>[] = [];

    const killGroup = () => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // the group is already gone
      }
    };
    const stop = (reason: NonNullable<CapturedProcessResult['stoppedBy']>) => {
      if (exit || stoppedBy) return;
      stoppedBy = reason;
      killGroup();
      if (options.onKill) killing.push(options.onKill().catch(() => undefined));
    };

    const timer = setTimeout(() => stop('timeout'), options.timeoutMs);
    const onAbort = () => stop('cancelled');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const watchTimer = options.watch ? startWatch(options.watch, () => exit !== undefined || stoppedBy !== undefined, () => stop('quota')) : undefined;

    const collect = (stream: Readable, buffer: CappedBuffer) => {
      stream.on('data', (chunk: Buffer) => {
        outputBytes += chunk.length;
        buffer.push(chunk);
        if (outputBytes > floodBytes) stop('output');
      });
    };
    collect(child.stdout as Readable, stdout);
    collect(child.stderr as Readable, stderr);

    const finish = () => {
      if (settled || !exit) return;
      settled = true;
      clearTimeout(timer);
      watchTimer?.stop();
      if (graceTimer) clearTimeout(graceTimer);
      options.signal?.removeEventListener('abort', onAbort);
      child.stdout?.destroy();
      child.stderr?.destroy();
      void Promise.all(killing).then(() =>
        resolve({
          exitCode: exit?.code ?? null,
          signal: exit?.signal ?? null,
          stdout: stdout.toString(),
          stderr: stderr.toString(),
          truncated: stdout.truncated || stderr.truncated,
          stoppedBy,
          outputBytes,
          durationMs: elapsed(),
        }),
      );
    };

    child.once('error', (error) => {
      clearTimeout(timer);
      watchTimer?.stop();
      options.signal?.removeEventListener('abort', onAbort);
      if (!settled) {
        settled = true;
        reject(error);
      }
    });
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      // Whatever the command left running in its process group goes with it.
      killGroup();
      graceTimer = setTimeout(finish, PIPE_GRACE_MS);
    });
    child.once('close', () => finish());
  });
}
