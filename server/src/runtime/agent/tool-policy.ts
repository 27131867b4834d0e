import type { ToolPolicy } from '../../store/project-config.ts';

/**
 * How a tool call is gated: project policy first (`deny` refuses, `ask` always asks, `allow` runs),
 * `proceed_always` grants, then the task's autoExecute (false asks for everything not denied).
 */
export function decideToolGate(options: {
  toolName: string;
  policies: Record<string, ToolPolicy>;
  autoExecute: boolean;
  grants: readonly string[];
}): 'run' | 'ask' | 'deny' {
  const policy = options.policies[options.toolName];
  if (policy === 'deny') return 'deny';
  if (options.grants.includes(options.toolName)) return 'run';
  if (policy === 'ask' || !options.autoExecute) return 'ask';
  return 'run';
}
