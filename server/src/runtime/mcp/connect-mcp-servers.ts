import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { z } from 'zod';
import type { ProjectConfig } from '../../store/project-config.ts';
import type { Sandbox } from '../sandbox/create-sandbox.ts';
import type { SandboxLimits } from '../sandbox/sandbox-limits.ts';
import type { ToolDefinition } from '../tools/tool.ts';
import { capToolResult } from './cap-tool-result.ts';
import { resolveTemplateMap, resolveTemplates } from './resolve-templates.ts';
import { SandboxedStdioTransport } from './sandboxed-stdio-transport.ts';
import { toErrorNote } from './to-error-note.ts';
import { isToolIncluded } from './tool-filter.ts';

export const DEFAULT_MCP_TIMEOUT_MS = 30_000;
const MAX_TOOL_NAME = 64;

type McpServerConfig = ProjectConfig['mcpServers'][string];

export interface McpConnection {
  tools: ToolDefinition<Record<string, unknown>>[];
  /** Servers that could not be used, with the reason (safe to show: no secret values). */
  failures: { server: string; reason: string }[];
  close(): Promise<void>;
}

/** Where the task's stdio MCP servers run, and where their stderr goes. */
export interface McpConnectOptions {
  signal: AbortSignal;
  clientName?: string;
  /** Runs stdio servers inside the task's sandbox; without it they are reported unavailable. */
  sandbox?: Pick<Sandbox, 'spawn'>;
  workspaceDir?: string;
  limits?: SandboxLimits;
  /** Redacts the task's secrets from error notes and stderr lines. */
  redact?: (text: string) => string;
  /**
   * Shows no error details to the visitor, only a fixed note (the details go to the log): for tasks whose
   * MCP templates hold secrets the visitor must not learn. Deciding per note whether it holds one would
   * answer the visitor's guesses, since a server's errors often repeat the arguments sent (red team).
   */
  withholdErrors?: boolean;
  /** Applied to every (capped) tool result, after the task's own redaction: whole matches only. */
  redactResult?: (text: string) => string;
  /** Receives each (redacted, capped) stderr line of a stdio server, and withheld error details. */
  logger?: { info(fields: Record<string, unknown>, message: string): void };
}

/** Where a stdio MCP server starts unless its config says otherwise: read-only, nothing the visitor can plant. */
export const MCP_DEFAULT_CWD = '/';

function createTransport(serverName: string, config: McpServerConfig, values: Record<string, string>, options: McpConnectOptions): Transport {
  if (config.command) {
    const { sandbox, workspaceDir, limits } = options;
    if (!sandbox || !workspaceDir || !limits) throw new Error('stdio MCP servers run only inside a task sandbox, and none was given');
    const redact = options.redact ?? ((text: string) => text);
    // An operator's local server runs in the task's sandbox with only the env it is given: the shell's reach, no more.
    const command = config.command;
    const args = (config.args ?? []).map((arg) => resolveTemplates(arg, values));
    const env = resolveTemplateMap(config.env, values);
    return new SandboxedStdioTransport({
      // Not the workspace by default: the visitor writes there, and `python -m x` or a `.env` loader would
      // run or read the visitor's files with the owner's secrets in the environment (red team finding).
      start: () => sandbox.spawn({ workspaceDir, command, args, env, limits, cwd: config.cwd ?? MCP_DEFAULT_CWD }),
      onStderrLine: (line) => options.logger?.info({ server: serverName, stderr: redact(line) }, 'MCP server stderr'),
      onStderrDropped: (count) =>
        options.logger?.info(
          { server: serverName, dropped: count },
          count === 0 ? 'MCP server stderr: line limit reached, dropping further lines' : 'MCP server stderr: lines dropped',
        ),
    });
  }
  const url = new URL(resolveTemplates(config.url!, values));
  const requestInit = { headers: resolveTemplateMap(config.headers, values) };
  return config.type === 'sse' ? new SSEClientTransport(url, { requestInit }) : new StreamableHTTPClientTransport(url, { requestInit });
}

function toText(result: { content?: unknown; structuredContent?: unknown }): string {
  const parts = Array.isArray(result.content) ? (result.content as { type: string; text?: string; mimeType?: string }[]) : [];
  const text = parts.map((part) => (part.type === 'text' ? (part.text ?? '') : `[${part.type}${part.mimeType ? ` ${part.mimeType}` : ''}]`)).join('\n');
  return text || (result.structuredContent ? JSON.stringify(result.structuredContent) : '(no output)');
}

/**
 * Connects to a project's enabled MCP servers for one turn, with `{{mcp.KEY}}` resolved from `values`,
 * and turns their tools into `<server>__<tool>` tool definitions. stdio servers start in the task's sandbox.
 * A server that fails to connect is reported in `failures` (a short redacted note); the turn goes on without it.
 * Tool results are capped at the task's `maxOutputBytes`; tool errors become short redacted notes.
 */
export async function connectMcpServers(
  servers: ProjectConfig['mcpServers'],
  values: Record<string, string>,
  options: McpConnectOptions,
): Promise<McpConnection> {
  const redact = options.redact ?? ((text: string) => text);
  const describe = (serverName: string, error: unknown): string => {
    if (!options.withholdErrors) return toErrorNote(error, redact);
    options.logger?.info({ server: serverName, reason: error instanceof Error ? error.message : String(error) }, 'MCP error withheld from the visitor');
    const code = (error as { code?: unknown } | null)?.code;
    return `the details are in the server log${typeof code === 'number' ? ` (error ${code})` : ''}`;
  };
  const clients: Client[] = [];
  const tools: ToolDefinition<Record<string, unknown>>[] = [];
  const failures: McpConnection['failures'] = [];
  await Promise.all(
    Object.entries(servers)
      .filter(([, config]) => config.enabled)
      .map(async ([serverName, config]) => {
        const timeout = config.timeout ?? DEFAULT_MCP_TIMEOUT_MS;
        const client = new Client({ name: options.clientName ?? 'concierge', version: '0.1.0' });
        try {
          await client.connect(createTransport(serverName, config, values, options), { timeout, signal: options.signal });
          clients.push(client);
          const { tools: listed } = await client.listTools(undefined, { timeout, signal: options.signal });
          for (const listedTool of listed) {
            if (!isToolIncluded(listedTool.name, config.tools)) continue;
            const name = `${serverName}__${listedTool.name}`.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, MAX_TOOL_NAME);
            tools.push({
              name,
              description: listedTool.description ?? `${listedTool.name} from the ${serverName} MCP server`,
              inputSchema: z.record(z.string(), z.unknown()),
              jsonSchema: listedTool.inputSchema as Record<string, unknown>,
              // The agent's deadline backs up the request's own timeout by a second.
              timeoutMs: timeout + 1_000,
              async execute(args, context) {
                let result: Awaited<ReturnType<Client['callTool']>>;
                try {
                  result = await client.callTool({ name: listedTool.name, arguments: args }, undefined, { timeout, signal: context.signal });
                } catch (error) {
                  if (context.signal.aborted) throw error;
                  return { status: 'error', output: `The MCP tool ${name} failed: ${describe(serverName, error)}` };
                }
                const capped = capToolResult(toText(result as { content?: unknown; structuredContent?: unknown }), context.limits.maxOutputBytes, context.redactor?.redactCut);
                const output = options.redactResult ? options.redactResult(capped) : capped;
                return { status: result.isError ? 'error' : 'success', output };
              },
            });
          }
        } catch (error) {
          await client.close().catch(() => {});
          failures.push({ server: serverName, reason: describe(serverName, error) });
        }
      }),
  );
  return {
    tools,
    failures,
    async close() {
      await Promise.all(clients.map((client) => client.close().catch(() => {})));
    },
  };
}
