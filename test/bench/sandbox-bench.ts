// Sandbox overhead benchmark: `node --import tsx test/bench/sandbox-bench.ts [--runs N] [--write-baseline]`.
// Prints the latency a sandboxed `true` adds over a plain spawn, and sandboxed commands per second with
// two concurrent workers; compares with test/bench/sandbox-baseline.json when it exists.
import { spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSandbox } from '../../server/src/runtime/sandbox/create-sandbox.ts';
import { DEFAULT_SANDBOX_LIMITS } from '../../server/src/runtime/sandbox/sandbox-limits.ts';

interface BenchResult {
  runs: number;
  plainSpawnMs: { median: number; p95: number };
  sandboxedMs: { median: number; p95: number };
  addedMs: { median: number; p95: number };
  commandsPerSecond: number;
  workers: number;
  host: { cpus: number; node: string; cgroups: string };
}

const BASELINE_FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'sandbox-baseline.json');
const WORKERS = 2;
const THROUGHPUT_MS = 3000;

function argument(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index === -1 ? undefined : (process.argv[index + 1] ?? '');
}

function percentile(values: number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const value = sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] ?? 0;
  return Math.round(value * 100) / 100;
}

function plainSpawn(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('true', { stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', () => resolve());
  });
}

async function time(action: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await action();
  return performance.now() - started;
}

async function main(): Promise<void> {
  const runs = Number(argument('--runs') ?? 100);
  const sandbox = await createSandbox({ mode: 'bwrap' });
  const workspaceDir = mkdtempSync(path.join(tmpdir(), 'sandbox-bench-'));
  // As the server does: the workspace belongs to the sandbox's host user when the server is root.
  if (sandbox.hostUser) chownSync(workspaceDir, sandbox.hostUser.uid, sandbox.hostUser.gid);
  const options = { workspaceDir, command: 'true', env: {}, limits: DEFAULT_SANDBOX_LIMITS };
  try {
    for (let index = 0; index < 5; index++) {
      await plainSpawn();
      await sandbox.run(options);
    }
    const plain: number[] = [];
    const sandboxed: number[] = [];
    for (let index = 0; index < runs; index++) {
      plain.push(await time(plainSpawn));
      sandboxed.push(await time(() => sandbox.run(options)));
    }
    let completed = 0;
    const deadline = performance.now() + THROUGHPUT_MS;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: WORKERS }, async () => {
        while (performance.now() < deadline) {
          const result = await sandbox.run(options);
          if (result.exitCode !== 0) throw new Error(`sandboxed true failed: ${result.stderr}`);
          completed++;
        }
      }),
    );
    const elapsedSeconds = (performance.now() - started) / 1000;
    const result: BenchResult = {
      runs,
      plainSpawnMs: { median: percentile(plain, 0.5), p95: percentile(plain, 0.95) },
      sandboxedMs: { median: percentile(sandboxed, 0.5), p95: percentile(sandboxed, 0.95) },
      addedMs: {
        median: Math.round((percentile(sandboxed, 0.5) - percentile(plain, 0.5)) * 100) / 100,
        p95: Math.round((percentile(sandboxed, 0.95) - percentile(plain, 0.95)) * 100) / 100,
      },
      commandsPerSecond: Math.round((completed / elapsedSeconds) * 10) / 10,
      workers: WORKERS,
      host: { cpus: cpus().length, node: process.version, cgroups: sandbox.enforcement.cgroups },
    };
    process.stdout.write(`plain spawn('true')      median ${result.plainSpawnMs.median} ms   p95 ${result.plainSpawnMs.p95} ms\n`);
    process.stdout.write(`sandboxed true           median ${result.sandboxedMs.median} ms   p95 ${result.sandboxedMs.p95} ms\n`);
    process.stdout.write(`added by the sandbox     median ${result.addedMs.median} ms   p95 ${result.addedMs.p95} ms\n`);
    process.stdout.write(`throughput (${WORKERS} workers)    ${result.commandsPerSecond} commands/s on ${result.host.cpus} cores\n`);
    if (existsSync(BASELINE_FILE)) {
      const baseline = JSON.parse(readFileSync(BASELINE_FILE, 'utf8')) as BenchResult;
      const change = (now: number, then: number) => `${now >= then ? '+' : ''}${Math.round(((now - then) / then) * 1000) / 10}%`;
      process.stdout.write(
        `vs baseline: added median ${baseline.addedMs.median} → ${result.addedMs.median} ms (${change(result.addedMs.median, baseline.addedMs.median)}), ` +
          `throughput ${baseline.commandsPerSecond} → ${result.commandsPerSecond}/s (${change(result.commandsPerSecond, baseline.commandsPerSecond)})\n`,
      );
    }
    if (process.argv.includes('--write-baseline') || !existsSync(BASELINE_FILE)) {
      writeFileSync(BASELINE_FILE, `${JSON.stringify(result, null, 2)}\n`);
      process.stdout.write(`baseline written to ${path.relative(process.cwd(), BASELINE_FILE)}\n`);
    }
  } finally {
    rmSync(workspaceDir, { recursive: true, force: true });
  }
}

await main();
