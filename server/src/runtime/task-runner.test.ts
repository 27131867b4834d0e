import fs from 'node:fs/promises';
import path from 'node:path';
import type { Message, TaskStatus } from '@concierge/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSse, type StreamedEvent } from '../testing/read-sse.ts';
import { startFakeMcpServer } from '../testing/start-fake-mcp-server.ts';
import { stdioMcpProbeServer } from '../testing/stdio-mcp-probe.ts';
import { startTestServer, type TestServer } from '../testing/start-test-server.ts';

// An approval or a follow-up that lands while the previous turn is still closing (MCP clients
// closing, the lease released) must run once that turn is done, never be dropped. These drive many
// conversations at once as fast as a client can (approve on the live tool_call, follow up on the
// live done), so requests land in every phase of a turn's end, with and without MCP servers.

const CONVERSATIONS = 12;
const MCP_AUTHORIZATION = 'Bearer runner-test';

let server: TestServer;
let dataDir: string;
let closeMcp: () => Promise<void>;
const keys: Record<string, string> = {};

beforeAll(async () => {
  const mcp = await startFakeMcpServer({ requiredAuthorization: MCP_AUTHORIZATION });
  closeMcp = mcp.close;
  // Under /var/tmp like the other sandboxed suites: the sandbox's host user must be able to reach it.
  dataDir = await fs.mkdtemp(path.join('/var/tmp', 'concierge-runner-'));
  server = await startTestServer(
    {},
    {
      dataDir,
      projects: {
        default: {},
        stdio: { mcpServers: { probe: stdioMcpProbeServer() } },
        http: { mcpServers: { crm: { type: 'http', url: mcp.url, headers: { Authorization: MCP_AUTHORIZATION } } } },
      },
    },
  );
  keys.default = server.apiKey;
  keys.stdio = await server.createApiKey('stdio');
  keys.http = await server.createApiKey('http');
});

afterAll(async () => {
  await server?.close();
  await closeMcp?.();
});

function client(apiKey: string) {
  const headers = { Authorization: `Bearer ${apiKey}` };
  const call = async (method: string, route: string, body?: unknown) => {
    const response = await fetch(`${server.url}/api/v1${route}`, {
      method,
      headers: { ...headers, ...(body ? { 'Content-Type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: response.status, body: (await response.json()) as { data: any; error?: { code: string } } };
  };
  const stream = (id: string, after: number, until: (event: StreamedEvent) => boolean) =>
    readSse(`${server.url}/api/v1/tasks/${id}/stream?after=${after}`, headers, { until, timeoutMs: 20_000 });
  return { call, stream };
}

const isTerminal = (event: StreamedEvent) =>
  event.event === 'done' || event.event === 'error' || (event.event === 'status' && (event.data as { status: string }).status === 'cancelled');

/**
 * One conversation of `turns` user messages, each asking for a tool that needs approval. The client
 * approves the moment the live `tool_call` arrives and follows up the moment `done` arrives.
 */
async function converse(apiKey: string, turns: string[]): Promise<{ status: TaskStatus; messages: Message[]; answers: string[] }> {
  const { call, stream } = client(apiKey);
  const created = await call('POST', '/tasks', { message: turns[0], autoExecute: false });
  expect(created.status).toBe(200);
  const id = created.body.data.id as string;
  let lastSeq = 0;
  const answers: string[] = [];
  for (const [index, turn] of turns.entries()) {
    if (index > 0) {
      const followUp = await call('POST', `/tasks/${id}/messages`, { message: turn });
      expect(followUp.status).toBe(200);
    }
    for (;;) {
      const events = await stream(id, lastSeq, (event) => isTerminal(event) || (event.event === 'tool_call' && (event.data as { status: string }).status === 'awaiting_approval'));
      lastSeq = Number(events.filter((event) => event.id).at(-1)?.id ?? lastSeq);
      const last = events.at(-1);
      if (!last) throw new Error(`the stream of task ${id} ended without an event`);
      if (last.event === 'tool_call') {
        const approved = await call('POST', `/tasks/${id}/tools/${(last.data as { callId: string }).callId}/approve`, { outcome: 'proceed_once' });
        expect(approved.status).toBe(200);
        continue;
      }
      expect(last.event).toBe('done');
      answers.push((last.data as { finalResponse: string }).finalResponse);
      break;
    }
  }
  const history = await call('GET', `/tasks/${id}/history`);
  return { status: history.body.data.status, messages: history.body.data.messages, answers };
}

describe('createTaskRunner', () => {
  for (const project of ['default', 'stdio', 'http']) {
    it(`runs every approval and follow-up that lands while a turn closes (${project === 'default' ? 'no MCP server' : `${project} MCP server`})`, async () => {
      const results = await Promise.all(
        Array.from({ length: CONVERSATIONS }, () => converse(keys[project]!, ['list files', 'list files again'])),
      );
      for (const result of results) {
        expect(result.status).toBe('completed');
        expect(result.messages.map((message) => message.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
        for (const message of result.messages.filter((message) => message.role === 'assistant')) {
          expect(message.toolCalls).toEqual([expect.objectContaining({ toolName: 'list_directory', status: 'success' })]);
        }
        expect(result.answers).toHaveLength(2);
        for (const answer of result.answers) expect(answer).toContain('workspace');
      }
    });
  }
});
