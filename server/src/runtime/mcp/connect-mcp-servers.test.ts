import { afterEach, describe, expect, it } from 'vitest';
import { startFakeMcpServer } from '../../testing/start-fake-mcp-server.ts';
import { DEFAULT_SANDBOX_LIMITS } from '../sandbox/sandbox-limits.ts';
import { connectMcpServers } from './connect-mcp-servers.ts';

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

const context = { taskId: 't', workspaceDir: '/tmp', env: {}, limits: DEFAULT_SANDBOX_LIMITS, signal: new AbortController().signal };

describe('connectMcpServers', () => {
  it('exposes filtered tools as server__tool and calls them with resolved headers', async () => {
    const fake = await startFakeMcpServer({ requiredAuthorization: 'Bearer crm-secret' });
    cleanup.push(fake.close);
    const connection = await connectMcpServers(
      { crm: { type: 'http', url: fake.url, enabled: true, headers: { Authorization: 'Bearer {{mcp.CRM_TOKEN}}' }, tools: { include: ['lookup_*'] } } },
      { CRM_TOKEN: 'crm-secret' },
      { signal: new AbortController().signal },
    );
    cleanup.push(connection.close);
    expect(connection.failures).toEqual([]);
    expect(connection.tools.map((tool) => tool.name)).toEqual(['crm__lookup_customer']);
    expect(connection.tools[0]!.jsonSchema).toMatchObject({ type: 'object', properties: { id: { type: 'string' } } });
    const result = await connection.tools[0]!.execute({ id: '42' }, context);
    expect(result).toEqual({ status: 'success', output: 'Customer 42: Ada Lovelace, tier gold' });
    expect(fake.calls).toEqual([{ tool: 'lookup_customer', args: { id: '42' } }]);
  });

  it('reports a server it cannot use and skips disabled ones', async () => {
    const fake = await startFakeMcpServer({ requiredAuthorization: 'Bearer right' });
    cleanup.push(fake.close);
    const connection = await connectMcpServers(
      {
        wrongKey: { type: 'http', url: fake.url, enabled: true, headers: { Authorization: 'Bearer wrong' } },
        missingValue: { type: 'http', url: fake.url, enabled: true, headers: { Authorization: 'Bearer {{mcp.NOPE}}' } },
        off: { type: 'http', url: fake.url, enabled: false },
      },
      {},
      { signal: new AbortController().signal },
    );
    cleanup.push(connection.close);
    expect(connection.tools).toEqual([]);
    expect(connection.failures.map((failure) => failure.server).sort()).toEqual(['missingValue', 'wrongKey']);
    expect(connection.failures.find((failure) => failure.server === 'missingValue')?.reason).toMatch(/NOPE/);
  });
});
