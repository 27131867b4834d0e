import { readFileSync } from 'node:fs';

/** The source of a dependency-free stdio MCP server whose tools report what its process can see and reach. */
export const STDIO_MCP_PROBE_SOURCE = readFileSync(new URL('./stdio-mcp-probe.mjs', import.meta.url), 'utf8');

/** A project `mcpServers` entry running the probe as `node --input-type=module -e <source>`. */
export function stdioMcpProbeServer(extra: { env?: Record<string, string>; timeout?: number } = {}) {
  return { command: 'node', args: ['--input-type=module', '-e', STDIO_MCP_PROBE_SOURCE], ...extra };
}
