import type { z } from 'zod';
import type { SandboxLimits } from '../sandbox/sandbox-limits.ts';

/**
 * Redaction a tool applies where it still knows how its output was made (two streams, a cap). The agent
 * redacts every tool's final text as well; this catches what that text alone no longer shows.
 */
export interface OutputRedactor {
  /** A command's stdout and stderr: a secret split between them, or cut by the cap, is hidden. */
  redactStreams(stdout: string, stderr: string, cut: boolean): { stdout: string; stderr: string };
  /** Text whose end was cut off: a tail that begins a secret is hidden too. */
  redactCut(text: string): string;
}

/** What a tool gets to work with: its task's workspace, env (secrets included) and the abort signal. */
export interface ToolContext {
  taskId: string;
  /** Absolute host path of the task workspace (holds `uploads/` and `downloads/`). */
  workspaceDir: string;
  /** The task's env merged with its secrets (secrets win). Only the sandbox sees it. */
  env: Record<string, string>;
  limits: SandboxLimits;
  signal: AbortSignal;
  /** The task's secret redactor (absent when the task has no secrets to hide). */
  redactor?: OutputRedactor;
}

/** A built-in tool. `execute` returns the text the model sees; it throws `ToolError` for a clear refusal. */
export interface ToolDefinition<Args = Record<string, unknown>> {
  name: string;
  description: string;
  inputSchema: z.ZodType<Args>;
  /** The JSON Schema shown to the model when it differs from `inputSchema` (MCP tools bring their own). */
  jsonSchema?: Record<string, unknown>;
  /** How long a call may run before the agent abandons it (MCP tools: their server's `timeout`); default per tool kind. */
  timeoutMs?: number;
  execute(args: Args, context: ToolContext): Promise<ToolOutcome>;
}

/** `status: 'error'` marks a failed tool run; the output still goes to the model so it can react. */
export interface ToolOutcome {
  status: 'success' | 'error';
  output: string;
}

/** A refusal or failure whose message is safe to show the model and the user. */
export class ToolError extends Error {
  override name = 'ToolError';
}
