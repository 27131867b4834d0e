import { spawn } from 'node:child_process';
import path from 'node:path';

/** Runs `concierge <args> --json` (node directly, no pnpm) and returns the JSON object it printed. */
export function runConciergeCli(args: string[], options: { root: string; env: NodeJS.ProcessEnv }): Promise<Record<string, unknown>> {
  const entry = path.join(options.root, 'server/bin/concierge.js');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [entry, ...args, '--json'], { cwd: options.root, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.once('error', reject);
    child.once('close', (code) => {
      const command = `concierge ${args.join(' ')}`;
      if (code !== 0) return reject(new Error(`${command} failed (exit ${code}): ${stderr.trim() || stdout.trim() || 'no output'}`));
      try {
        resolve(JSON.parse(stdout) as Record<string, unknown>);
      } catch {
        reject(new Error(`${command} printed no JSON object: ${stdout.trim().slice(0, 200)}`));
      }
    });
  });
}
