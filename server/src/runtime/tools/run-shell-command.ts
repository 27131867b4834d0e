import { z } from 'zod';
import type { Sandbox, SandboxRunResult } from '../sandbox/create-sandbox.ts';
import type { ToolDefinition } from './tool.ts';

/** Arguments of `run_shell_command`, as in the contract. */
export interface RunShellCommandArgs {
  command: string;
  timeoutMs?: number;
}

const inputSchema = z.object({
  command: z.string().min(1).describe('A /bin/sh command line, run in /workspace'),
  timeoutMs: z.number().int().positive().optional().describe('Stop the command sooner than the project timeout'),
});

/** The text the model sees for one command: exit code, the limit that stopped it, and both streams. */
export function formatShellResult(result: SandboxRunResult, maxOutputBytes: number): string {
  const exit = result.exitCode !== null ? String(result.exitCode) : `none (killed by ${result.signal ?? 'a signal'})`;
  const lines = [`Exit code: ${exit}`];
  if (result.reason) lines.push(`Stopped by a limit (${result.limit}): ${result.reason}`);
  lines.push('--- stdout ---', result.stdout.trimEnd(), '--- stderr ---', result.stderr.trimEnd());
  if (result.truncated) lines.push(`(output truncated to the first ${maxOutputBytes} bytes of each stream)`);
  return lines.join('\n');
}

/** The `run_shell_command` tool: runs a shell command in the task's sandbox. */
export function runShellCommandTool(sandbox: Sandbox): ToolDefinition<RunShellCommandArgs> {
  return {
    name: 'run_shell_command',
    description:
      'Run a shell command (/bin/sh) in the task workspace, mounted at /workspace (uploads/ holds user files; ' +
      'write results to downloads/). No network access. Returns the exit code, stdout and stderr (capped), ' +
      'and the reason if a limit (time, memory, processes, output, file size, workspace quota) stopped it.',
    inputSchema,
    async execute(args, context) {
      const result = await sandbox.run({
        workspaceDir: context.workspaceDir,
        command: args.command,
        env: context.env,
        limits: context.limits,
        timeoutMs: args.timeoutMs,
        signal: context.signal,
      });
      const failed = result.exitCode !== 0 || result.limit !== undefined;
      // Redacted while the streams are still apart: a secret printed half to each, or cut by the cap, is
      // hidden here; in the formatted text the halves are separated and the cut is followed by more text.
      const streams = context.redactor ? context.redactor.redactStreams(result.stdout, result.stderr, result.truncated) : result;
      return { status: failed ? 'error' : 'success', output: formatShellResult({ ...result, ...streams }, context.limits.maxOutputBytes) };
    },
  };
}
