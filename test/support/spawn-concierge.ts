import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { removeTree } from '../../server/src/runtime/workspace/remove-tree.ts';

/** The repository root: every process is started from here so `server/src/cli/main.ts` resolves. */
export const REPO_ROOT = path.resolve(fileURLToPath(import.meta.url), '../../..');
const CLI_ARGS = ['--import', 'tsx', 'server/src/cli/main.ts'];
const HEALTH_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;

// Servers still running when the test process exits (a crash, a timeout) are killed with it.
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** What a finished CLI run printed and how it exited. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A `concierge serve` child process with its own data dir, plus the CLI bound to that data dir. */
export interface SpawnedConcierge {
  /** Base URL, e.g. `http://127.0.0.1:41234` (stable across restarts). */
  url: string;
  dataDir: string;
  /** Every stdout and stderr line of every process run so far (log lines are JSON). */
  lines: string[];
  readonly process: ChildProcess;
  /** Sends a signal and waits for the process to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts the server again on the same port and data dir (after kill or stop). */
  restart(): Promise<void>;
  /** SIGTERM, wait for the exit, then remove the data dir. */
  stop(): Promise<void>;
  /** Runs `concierge <args>` with the same environment and data dir (plus `env` overrides). */
  cli(args: string[], env?: Record<string, string>): Promise<CliResult>;
  /** Creates an API key for a project through the CLI. */
  createApiKey(project?: string, extraArgs?: string[]): Promise<{ id: string; key: string; project: string }>;
}

/** Finds a free TCP port by listening on port 0 and closing again. */
export async function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function collectLines(stream: NodeJS.ReadableStream | null, into: string[]): void {
  let rest = '';
  stream?.setEncoding('utf8');
  stream?.on('data', (chunk: string) => {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop() ?? '';
    into.push(...parts);
  });
  stream?.on('end', () => {
    if (rest) into.push(rest);
    rest = '';
  });
}

function waitForExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function waitForHealth(url: string, child: ChildProcess, lines: string[]): Promise<void> {
  const deadline = Date.now() + HEALTH_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`concierge serve exited (${child.exitCode ?? child.signalCode}) before /healthz answered:\n${lines.slice(-20).join('\n')}`);
    }
    try {
      const response = await fetch(`${url}/healthz`);
      if (response.status === 200) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`concierge serve did not answer /healthz within ${HEALTH_TIMEOUT_MS} ms:\n${lines.slice(-20).join('\n')}`);
}

/**
 * Starts `node --import tsx server/src/cli/main.ts serve` on a free port with a fresh data dir and waits
 * for `/healthz`. `llmBaseUrl` is the fake OpenAI-compatible server (`…/v1`); `env` overrides anything.
 */
export async function spawnConcierge(
  options: {
    llmBaseUrl?: string;
    env?: Record<string, string>;
    /** Node options for the server only (not its CLI runs). */
    nodeArgs?: string[];
    /** A data dir shared with other servers (a shared volume); by default a fresh one. */
    dataDir?: string;
    /** Descriptors the server inherits open, by number (as a careless supervisor would pass them). */
    inheritDescriptors?: Record<number, number>;
  } = {},
): Promise<SpawnedConcierge> {
  const dataDir = options.dataDir ?? (await fs.mkdtemp(path.join(os.tmpdir(), 'concierge-api-')));
  const port = await findFreePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    CONCIERGE_DATA_DIR: dataDir,
    CONCIERGE_MODEL: 'openai-compatible:fake-model',
    ...(options.llmBaseUrl ? { CONCIERGE_LLM_BASE_URL: options.llmBaseUrl } : {}),
    CONCIERGE_MODEL_RETRY_DELAY_MS: '20',
    LOG_LEVEL: 'debug',
    ...options.env,
  };
  const url = `http://127.0.0.1:${port}`;
  const lines: string[] = [];
  let child: ChildProcess;

  const start = async () => {
    const stdio: ('ignore' | 'pipe' | number)[] = ['ignore', 'pipe', 'pipe'];
    for (const [target, source] of Object.entries(options.inheritDescriptors ?? {})) {
      while (stdio.length < Number(target)) stdio.push('ignore');
      stdio[Number(target)] = source;
    }
    child = spawn(process.execPath, [...(options.nodeArgs ?? []), ...CLI_ARGS, 'serve'], { cwd: REPO_ROOT, env, stdio });
    const started = child;
    running.add(started);
    started.once('exit', () => running.delete(started));
    collectLines(child.stdout, lines);
    collectLines(child.stderr, lines);
    await waitForHealth(url, child, lines);
  };

  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    const exited = waitForExit(child);
    child.kill(signal);
    await exited;
  };

  const cli = (args: string[], overrides: Record<string, string> = {}): Promise<CliResult> =>
    new Promise((resolve, reject) => {
      const run = spawn(process.execPath, [...CLI_ARGS, ...args], { cwd: REPO_ROOT, env: { ...env, ...overrides }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      run.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      run.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      run.once('error', reject);
      run.once('close', (code) => resolve({ code, stdout, stderr }));
    });

  try {
    await start();
  } catch (error) {
    await fs.rm(dataDir, { recursive: true, force: true });
    throw error;
  }
  return {
    url,
    dataDir,
    lines,
    get process() {
      return child;
    },
    kill,
    async restart() {
      if (child.exitCode === null && child.signalCode === null) await kill('SIGKILL');
      await start();
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = waitForExit(child);
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
        await exited;
        clearTimeout(timer);
      }
      // A workspace a test made deeper than PATH_MAX is beyond fs.rm.
      await removeTree(dataDir);
    },
    cli,
    async createApiKey(project = 'default', extraArgs = []) {
      const result = await cli(['keys', 'create', '--project', project, '--json', ...extraArgs]);
      if (result.code !== 0) throw new Error(`keys create failed (${result.code}): ${result.stderr}`);
      return JSON.parse(result.stdout) as { id: string; key: string; project: string };
    },
  };
}
