import { type ChildProcess, spawn } from 'node:child_process';

/** What the demo printed once it was ready. */
export interface DemoBanner {
  demoUrl: string;
  apiUrl: string;
  healthUrl: string;
  apiKey: string;
  appId: string;
}

/** A running `npm run demo` (or `bash scripts/demo.sh`), in its own process group like a terminal job. */
export interface DemoCommand {
  child: ChildProcess;
  pid: number;
  output(): string;
  /** Resolves with the banner's values once "Press Ctrl+C to stop." is printed. */
  ready: Promise<DemoBanner>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const PROVIDER_VARIABLES = ['ANTHROPIC_API_KEY', 'OPENAI_API_KEY', 'CONCIERGE_MODEL', 'CONCIERGE_LLM_BASE_URL', 'CONCIERGE_LLM_API_KEY'];

function field(output: string, label: string): string {
  const match = new RegExp(`^\\s*${label}:\\s+(\\S+)`, 'm').exec(output);
  if (!match) throw new Error(`the demo printed no "${label}:" line:\n${output}`);
  return match[1]!;
}

/** Starts the demo as a user would from the repository root, with the given extra environment. */
export function runDemoCommand(command: string, args: string[], options: { cwd: string; env: Record<string, string>; timeoutMs: number }): DemoCommand {
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
  // The scripted model is the point of the test: a developer's own provider key must not switch it.
  for (const name of PROVIDER_VARIABLES) delete env[name];
  const child = spawn(command, args, { cwd: options.cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const ready = new Promise<DemoBanner>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the demo was not ready within ${options.timeoutMs} ms:\n${output}`)), options.timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (!output.includes('Press Ctrl+C to stop.')) return;
      clearTimeout(timer);
      try {
        resolve({
          demoUrl: field(output, 'Demo page'),
          apiUrl: field(output, 'API'),
          healthUrl: field(output, 'Health'),
          apiKey: field(output, 'API key'),
          appId: field(output, 'Widget app'),
        });
      } catch (error) {
        reject(error);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`the demo exited (${signal ?? code}) before it was ready:\n${output}`));
    });
  });
  ready.catch(() => undefined);
  return { child, pid: child.pid!, output: () => output, ready, exited };
}
