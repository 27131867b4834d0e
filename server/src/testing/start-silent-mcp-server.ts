import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';

/** A Streamable HTTP MCP server for hang tests: it lists a `wait` tool and never answers a call of it. */
export async function startSilentMcpServer() {
  let calls = 0;
  const httpServer = http.createServer(async (request, response) => {
    const server = new McpServer({ name: 'silent', version: '1.0.0' });
    server.registerTool('wait', { description: 'Never answers' }, () => {
      calls += 1;
      return new Promise<never>(() => {});
    });
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    response.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(request, response);
  });
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}/mcp`,
    /** How many tool calls arrived. */
    get calls() {
      return calls;
    },
    async close() {
      httpServer.closeAllConnections();
      await new Promise((resolve) => httpServer.close(resolve));
    },
  };
}
