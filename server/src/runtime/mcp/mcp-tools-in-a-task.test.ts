import { afterEach, describe, expect, it } from 'vitest';
import { startFakeMcpServer } from '../../testing/start-fake-mcp-server.ts';
import { startFakeOpenAIServer } from '../../testing/fake-openai-server.ts';
import { readSse } from '../../testing/read-sse.ts';
import { startTestServer } from '../../testing/start-test-server.ts';

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

describe('MCP tools in a task', () => {
  it('lets the agent call a project MCP tool with a header resolved from the task secrets', async () => {
    const crm = await startFakeMcpServer({ requiredAuthorization: 'Bearer crm-secret-value' });
    cleanup.push(crm.close);
    const model = await startFakeOpenAIServer({
      reply: (request) =>
        request.messages.at(-1)?.role === 'tool'
          ? { text: 'Found the customer.' }
          : { toolCalls: [{ name: 'crm__lookup_customer', args: { id: '7' } }] },
    });
    cleanup.push(model.close);
    const server = await startTestServer(
      { CONCIERGE_MODEL: 'openai-compatible:fake', CONCIERGE_LLM_BASE_URL: model.url },
      {
        projects: {
          default: {
            toolPolicies: { crm__delete_customer: 'deny' },
            mcpServers: { crm: { type: 'http', url: crm.url, headers: { Authorization: 'Bearer {{mcp.CRM_TOKEN}}' }, tools: { exclude: ['delete_*'] } } },
          },
        },
      },
    );
    cleanup.push(server.close);
    const headers = { Authorization: `Bearer ${server.apiKey}`, 'Content-Type': 'application/json' };
    const created = await (
      await fetch(`${server.url}/api/v1/tasks`, { method: 'POST', headers, body: JSON.stringify({ message: 'who is customer 7?', secrets: { CRM_TOKEN: 'crm-secret-value' } }) })
    ).json();
    const events = await readSse(`${server.url}/api/v1/tasks/${created.data.id}/stream`, headers);
    expect(events.at(-1)).toMatchObject({ event: 'done', data: { finalResponse: 'Found the customer.' } });
    expect(events.find((event) => event.event === 'tool_result')?.data).toMatchObject({
      toolName: 'crm__lookup_customer',
      status: 'success',
      output: 'Customer 7: Ada Lovelace, tier gold',
    });
    expect(crm.calls).toEqual([{ tool: 'lookup_customer', args: { id: '7' } }]);
    const offered = (model.requests[0]!.tools ?? []).map((tool: { function: { name: string } }) => tool.function.name);
    expect(offered).toContain('crm__lookup_customer');
    expect(offered).not.toContain('crm__delete_customer');
    expect(JSON.stringify(events)).not.toContain('crm-secret-value');
  });
});
