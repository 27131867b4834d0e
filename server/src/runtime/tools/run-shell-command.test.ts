import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandbox, type Sandbox } from '../sandbox/create-sandbox.ts';
import { DEFAULT_SANDBOX_LIMITS } from '../sandbox/sandbox-limits.ts';
import { runShellCommandTool } from './run-shell-command.ts';
import type { ToolContext } from './tool.ts';

describe('runShellCommandTool', () => {
  let sandbox: Sandbox;
  let context: ToolContext;

  beforeAll(async () => {
    sandbox = await createSandbox({ mode: 'bwrap' });
    context = {
      taskId: 'task-1',
      workspaceDir: mkdtempSync(path.join(tmpdir(), 'shell-tool-')),
      env: { GREETING: 'hello' },
      limits: { ...DEFAULT_SANDBOX_LIMITS, maxOutputBytes: 64 },
      signal: new AbortController().signal,
    };
    // As the server creates workspaces: owned by the sandbox's host user when it drops privileges.
    if (sandbox.hostUser) chownSync(context.workspaceDir, sandbox.hostUser.uid, sandbox.hostUser.gid);
  });

  afterAll(() => rmSync(context.workspaceDir, { recursive: true, force: true }));

  it('validates its arguments with the input schema', () => {
    const tool = runShellCommandTool(sandbox);
    expect(tool.name).toBe('run_shell_command');
    expect(tool.inputSchema.safeParse({ command: 'ls', timeoutMs: 100 }).success).toBe(true);
    expect(tool.inputSchema.safeParse({ command: '' }).success).toBe(false);
    expect(tool.inputSchema.safeParse({ timeoutMs: 100 }).success).toBe(false);
  });

  it('returns success with exit code and both streams when the command exits 0', async () => {
    const outcome = await runShellCommandTool(sandbox).execute({ command: 'echo "$GREETING"; echo warn >&2' }, context);
    expect(outcome).toEqual({ status: 'success', output: 'Exit code: 0\n--- stdout ---\nhello\n--- stderr ---\nwarn' });
  });

  it('returns error when the exit code is not 0', async () => {
    const outcome = await runShellCommandTool(sandbox).execute({ command: 'exit 4' }, context);
    expect(outcome.status).toBe('error');
    expect(outcome.output).toContain('Exit code: 4');
  });

  it('returns error with the plain reason when a limit stops the command', async () => {
    const outcome = await runShellCommandTool(sandbox).execute({ command: 'sleep 5', timeoutMs: 200 }, context);
    expect(outcome.status).toBe('error');
    expect(outcome.output).toContain('Exit code: none (killed by SIGKILL)');
    expect(outcome.output).toContain('Stopped by a limit (timeout): Command timed out after 200 ms and was killed');
  });

  it('notes truncation when output passes the cap', async () => {
    const outcome = await runShellCommandTool(sandbox).execute({ command: 'seq 1 100' }, context);
    expect(outcome.status).toBe('success');
    expect(outcome.output).toContain('(output truncated to the first 64 bytes of each stream)');
  });

  it('stops the command when the task signal aborts', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const outcome = await runShellCommandTool(sandbox).execute({ command: 'sleep 10' }, { ...context, signal: controller.signal });
    expect(outcome.status).toBe('error');
    expect(outcome.output).toContain('(cancelled)');
  });
});
