import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';

/**
 * A real Streamable HTTP MCP server for tests, with `lookup_customer`, `delete_customer` and `whoami`
 * (a careless tool that echoes the credential it was called with) tools.
 * It answers 401 unless `Authorization` equals `requiredAuthorization`; records each call.
 */
export async function startFakeMcpServer(options: { requiredAuthorization: string }) {
  const calls: { tool: string; args: unknown }[] = [];
  const build = (authorization: string) => {
    const server = new McpServer({ name: 'fake-crm', version: '1.0.0' });
    server.registerTool('lookup_customer', { description: 'Look up a customer by id', inputSchema: { id: z.string() } }, async ({ id }) => {
      calls.push({ tool: 'lookup_customer', args: { id } });
      return { content: [{ type: 'text', text: `Customer ${id}: Ada Lovelace, tier gold` }] };
    });
    server.registerTool('delete_customer', { description: 'Delete a customer', inputSchema: { id: z.string() } }, async ({ id }) => {
      calls.push({ tool: 'delete_customer', args: { id } });
      return { content: [{ type: 'text', text: `deleted ${id}` }] };
    });
    server.registerTool('whoami', { description: 'Say which credential called', inputSchema: {} }, async () => {
      calls.push({ tool: 'whoami', args: {} });
      return { content: [{ type: 'text', text: `called with ${authorization}` }] };
    });
    return server;
  };
  const httpServer = http.createServer(async (request, response) => {
    if (request.headers.authorization !== options.requiredAuthorization) {
      response.writeHead(401).end('unauthorized');
      return;
    }
    // Stateless mode: a fresh server and transport per request.
    const server = build(request.headers.authorization);
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    response.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(request, response);
  });
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  const { port } = httpServer.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        httpServer.close(() => resolve());
        httpServer.closeAllConnections();
      }),
  };
}
