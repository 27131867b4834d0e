import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { createTestDatabase } from '../testing/create-test-database.ts';
import { readSse, type StreamedEvent } from '../testing/read-sse.ts';
import { startTestServer, type TestServer } from '../testing/start-test-server.ts';

let cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

let database: 'sqlite' | 'postgres' = 'sqlite';
// One database per test, shared by the servers a test starts (restart = a second server on it).
let databaseUrl: string | undefined;

async function start(env: Record<string, string> = {}, options: Parameters<typeof startTestServer>[1] = {}) {
  if (database === 'postgres' && !databaseUrl) {
    const created = await createTestDatabase(inject('databaseUrl'));
    databaseUrl = created.url;
    cleanups.push(async () => {
      databaseUrl = undefined;
      await created.drop();
    });
  }
  const server = await startTestServer({ ...env, ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}) }, options);
  cleanups.push(() => server.close());
  return server;
}

function api(server: TestServer) {
  const headers = { Authorization: `Bearer ${server.apiKey}` };
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${server.url}/api/v1${path}`, {
      method,
      headers: { ...headers, ...(body ? { 'Content-Type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: response.status, body: (await response.json()) as { success: boolean; data: any; error?: { code: string; message: string } } };
  };
  return {
    call,
    stream: (taskId: string, options: Parameters<typeof readSse>[2] = {}, extra: Record<string, string> = {}) =>
      readSse(`${server.url}/api/v1/tasks/${taskId}/stream`, { ...headers, ...extra }, options),
    async waitForStatus(taskId: string, status: string) {
      for (let i = 0; i < 200; i++) {
        const task = await call('GET', `/tasks/${taskId}`);
        if (task.body.data.status === status) return task.body.data;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      throw new Error(`task ${taskId} never reached ${status}`);
    },
    async create(body: Record<string, unknown>) {
      const { body: created } = await call('POST', '/tasks', body);
      expect(created.success).toBe(true);
      return created.data.id as string;
    },
  };
}

const names = (events: StreamedEvent[]) => events.map((event) => event.event);

describe.each(['sqlite', 'postgres'] as const)('Task API in-process on %s', (kind) => {
  beforeEach(() => {
    database = kind;
  });

  it('streams a completed turn and keeps it in history when a task writes a file', async () => {
    const server = await start();
    const client = api(server);
    const id = await client.create({ message: 'write a report' });
    const events = await client.stream(id);
    expect(names(events)).toContain('tool_result');
    expect(events.at(-1)?.event).toBe('done');
    const ids = events.filter((event) => event.id).map((event) => Number(event.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    const task = await client.call('GET', `/tasks/${id}`);
    expect(task.body.data).toMatchObject({ id, status: 'completed', autoExecute: true, showInHistory: true, error: null });
    expect(task.body.data.output.toolCalls[0]).toMatchObject({ toolName: 'write_file', status: 'success' });
    const artifacts = await client.call('GET', `/tasks/${id}/artifacts`);
    expect(artifacts.body.data.files).toEqual([expect.objectContaining({ path: 'downloads/report.md', mimeType: 'text/markdown', category: 'text' })]);
    const history = await client.call('GET', `/tasks/${id}/history`);
    expect(history.body.data.messages.map((message: { role: string }) => message.role)).toEqual(['user', 'assistant']);
  });

  it('waits for approval, survives a restart, and runs after proceed_once', async () => {
    const first = await start();
    const id = await api(first).create({ message: 'write a report', autoExecute: 'false' });
    const task = await api(first).waitForStatus(id, 'awaiting_approval');
    const [pending] = task.pendingApprovals;
    expect(pending).toMatchObject({ toolName: 'write_file', args: { path: 'downloads/report.md' } });
    await first.stop();

    const second = await start({}, { dataDir: first.dataDir, apiKey: first.apiKey });
    const client = api(second);
    expect((await client.call('GET', `/tasks/${id}`)).body.data.status).toBe('awaiting_approval');
    const approved = await client.call('POST', `/tasks/${id}/tools/${pending.callId}/approve`, { outcome: 'proceed_once' });
    expect(approved.body).toEqual({ success: true, data: { approved: true } });
    const events = await client.stream(id, {}, { 'Last-Event-ID': '0' });
    expect(events.at(-1)?.event).toBe('done');
    expect(events.find((event) => event.event === 'tool_result')?.data).toMatchObject({ callId: pending.callId, status: 'success' });
  });

  it('tells the model the user declined when the approval is cancelled', async () => {
    const server = await start();
    const client = api(server);
    const id = await client.create({ message: 'write a report', autoExecute: false });
    const replay = await client.stream(id, { until: (event) => event.event === 'history_done' });
    await client.waitForStatus(id, 'awaiting_approval');
    const callId = (await client.call('GET', `/tasks/${id}`)).body.data.pendingApprovals[0].callId as string;
    expect(replay.map((event) => event.event)).toContain('history_message');
    expect((await client.call('POST', `/tasks/${id}/tools/${callId}/approve`, { outcome: 'cancel' })).body.data).toEqual({ approved: false });
    const events = await client.stream(id, {}, { 'Last-Event-ID': '0' });
    expect(events.find((event) => event.event === 'tool_result')?.data).toMatchObject({ status: 'rejected' });
    expect(events.at(-1)?.event).toBe('done');
    expect((await client.call('GET', `/tasks/${id}`)).body.data.status).toBe('completed');
  });

  it('cancels a running task and ends its stream with status cancelled', async () => {
    const server = await start({ CONCIERGE_MODEL: 'scripted' });
    const client = api(server);
    const id = await client.create({ message: 'slow' });
    const streaming = client.stream(id);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect((await client.call('DELETE', `/tasks/${id}`)).body).toEqual({ success: true, data: { message: 'Task cancelled' } });
    const events = await streaming;
    expect(events.at(-1)).toMatchObject({ event: 'status', data: { status: 'cancelled' } });
    expect((await client.call('GET', `/tasks/${id}`)).body.data.status).toBe('cancelled');
    expect((await client.call('DELETE', `/tasks/${id}`)).body.error?.code).toBe('TASK_NOT_ACTIVE');
  });

  it('continues the conversation on a follow-up and refuses one while busy', async () => {
    const server = await start();
    const client = api(server);
    const id = await client.create({ message: 'hello' });
    await client.stream(id);
    const followUp = await client.call('POST', `/tasks/${id}/messages`, { message: 'list files' });
    expect(followUp.body).toEqual({ success: true, data: { status: 'running' } });
    const busy = await client.call('POST', `/tasks/${id}/messages`, { message: 'again' });
    expect([busy.status, busy.body.error?.code]).toEqual([409, 'TASK_BUSY']);
    await client.stream(id, {}, { 'Last-Event-ID': '0' });
    const history = await client.call('GET', `/tasks/${id}/history`);
    const messages = history.body.data.messages as { role: string; content: string }[];
    expect(messages.map((message) => message.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
    // The task's output is the latest turn's reply alone (folded from that turn's events only).
    expect(messages[1]!.content).not.toBe(messages[3]!.content);
    const task = await client.call('GET', `/tasks/${id}`);
    expect(task.body.data.output.content).toBe(messages[3]!.content);
    const list = await client.call('GET', '/tasks');
    expect(list.body.data[0]).toMatchObject({ id, messageCount: 4 });
  });

  it('fails the task with a clear error after the model keeps failing', async () => {
    const server = await start();
    const client = api(server);
    const id = await client.create({ message: 'fail' });
    // From the first event: the turn may fail before a plain stream connects (then it replays history only).
    const events = await client.stream(id, {}, { 'Last-Event-ID': '0' });
    expect(events.filter((event) => event.event === 'status').map((event) => (event.data as { status: string }).status)).toContain('retrying');
    expect(events.at(-1)).toMatchObject({ event: 'error', data: { code: 'MODEL_UNAVAILABLE' } });
    const task = await client.call('GET', `/tasks/${id}`);
    expect(task.body.data.status).toBe('failed');
    expect(task.body.data.error).toMatch(/The AI model is unavailable right now/);
  });
});
