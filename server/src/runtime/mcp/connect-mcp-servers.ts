import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { z } from 'zod';
import type { ProjectConfig } from '../../store/project-config.ts';
import type { ToolDefinition } from '../tools/tool.ts';
import { resolveTemplateMap, resolveTemplates } from './resolve-templates.ts';
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

function createTransport(config: McpServerConfig, values: Record<string, string>): Transport {
  if (config.command) {
    // Operator-configured local servers run on the host, with only the env they are given.
    return new StdioClientTransport({
      command: config.command,
      args: (config.args ?? []).map((arg) => resolveTemplates(arg, values)),
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...resolveTemplateMap(config.env, values) },
      ...(config.cwd ? { cwd: config.cwd } : {}),
      stderr: 'ignore',
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
 * Connects to a project's enabled MCP servers for one turn, with `{{mcp.KEY}}` resolved from the
 * task's env and secrets, and turns their tools into `<server>__<tool>` tool definitions.
 * A server that fails to connect is reported in `failures`; the turn goes on without it.
 */
export async function connectMcpServers(
  servers: ProjectConfig['mcpServers'],
  values: Record<string, string>,
  options: { signal: AbortSignal; clientName?: string },
): Promise<McpConnection> {
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
          await client.connect(createTransport(config, values), { timeout, signal: options.signal });
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
              async execute(args, context) {
                const result = await client.callTool({ name: listedTool.name, arguments: args }, undefined, { timeout, signal: context.signal });
                return { status: result.isError ? 'error' : 'success', output: toText(result as { content?: unknown; structuredContent?: unknown }) };
              },
            });
          }
        } catch (error) {
          await client.close().catch(() => {});
          failures.push({ server: serverName, reason: error instanceof Error ? error.message : String(error) });
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
