import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiClient, createApiClient } from '../support/api-client.ts';
import { type FakeModel, messageText, startFakeModel } from '../support/fake-model.ts';
import { type SpawnedConcierge, spawnConcierge } from '../support/spawn-concierge.ts';
import { waitFor } from '../support/wait-for.ts';

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const SECRET_VALUE = 'sk-live-very-secret-4242';

let fake: FakeModel;
let server: SpawnedConcierge;
let api: ApiClient;
let apiKeyId: string;

beforeAll(async () => {
  fake = await startFakeModel();
  server = await spawnConcierge({ llmBaseUrl: fake.url });
  const created = await server.createApiKey('default', ['--name', 'crud']);
  apiKeyId = created.id;
  api = createApiClient(server.url, created.key);
});

afterAll(async () => {
  await server?.stop();
  await fake?.close();
});

describe('POST /api/v1/tasks', () => {
  it('answers {id, status: pending} straight away when the body is JSON', async () => {
    const response = await api.call('POST', '/tasks', { message: 'hello [create-json-answer]' });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ success: true, data: { id: expect.stringMatching(UUID), status: 'pending' } });
    await api.waitForStatus(response.body.data.id, 'completed');
  });

  it('stores every JSON seed field and never returns secrets when all fields are given', async () => {
    const id = await api.createTask({
      message: 'echo $REGION [create-json-all]',
      systemPrompt: 'You answer in one sentence.',
      showInHistory: false,
      autoExecute: true,
      env: { REGION: 'eu-west-7' },
      secrets: { API_TOKEN: SECRET_VALUE },
    });
    const task = await api.waitForStatus(id, 'completed');
    expect(task).toMatchObject({
      id,
      apiKeyId,
      username: expect.any(String),
      sessionId: expect.stringMatching(UUID),
      conversationId: expect.stringMatching(/^\d{13}-[0-9a-z]{9}$/),
      status: 'completed',
      message: 'echo $REGION [create-json-all]',
      systemPrompt: 'You answer in one sentence.',
      showInHistory: false,
      autoExecute: true,
      env: { REGION: 'eu-west-7' },
      error: null,
      createdAt: expect.stringMatching(ISO_MS),
      startedAt: expect.stringMatching(ISO_MS),
      completedAt: expect.stringMatching(ISO_MS),
      output: { content: expect.stringContaining('eu-west-7'), updatedAt: expect.stringMatching(ISO_MS) },
    });
    expect(task).not.toHaveProperty('secrets');
    expect(task).not.toHaveProperty('pendingApprovals');
    // The env reached the sandbox: the shell saw REGION.
    expect(task.output?.toolCalls?.[0]).toMatchObject({ toolName: 'run_shell_command', status: 'success', output: expect.stringContaining('eu-west-7') });
    // The system prompt reached the model.
    const [first] = fake.requestsFor('[create-json-all]');
    expect(first?.messages[0]).toMatchObject({ role: 'system' });
    expect(messageText(first?.messages[0])).toContain('You answer in one sentence.');
    // The secret value appears in no answer of the API.
    const everything = await Promise.all([api.call('GET', `/tasks/${id}`), api.call('GET', '/tasks'), api.call('GET', `/tasks/${id}/history`), api.stream(id, { query: '?after=0' })]);
    expect(JSON.stringify(everything)).not.toContain(SECRET_VALUE);
    // Nor in the server's logs, nor anywhere in its data dir (database, WAL, workspaces).
    expect(server.lines.join('\n')).not.toContain(SECRET_VALUE);
    const files = (await fs.readdir(server.dataDir, { recursive: true, withFileTypes: true })).filter((entry) => entry.isFile());
    let holdsEnv = false;
    for (const file of files) {
      const content = await fs.readFile(path.join(file.parentPath, file.name));
      expect(content.includes(SECRET_VALUE), `${file.name} holds the secret`).toBe(false);
      holdsEnv ||= content.includes('eu-west-7');
    }
    // The scan does see stored data: the (non-secret) env value is there.
    expect(holdsEnv).toBe(true);
  });

  it('applies the documented defaults when only message is sent', async () => {
    const id = await api.createTask({ message: 'hello [create-defaults]' });
    const task = await api.waitForStatus(id, 'completed');
    expect(task).toMatchObject({ systemPrompt: null, showInHistory: true, autoExecute: true, env: null, error: null });
  });

  it('accepts every seed field and files when the body is multipart form data', async () => {
    const form = new FormData();
    form.append('message', 'hello [create-multipart]');
    form.append('systemPrompt', 'Form system prompt.');
    form.append('showInHistory', 'false');
    form.append('autoExecute', 'false');
    form.append('env', JSON.stringify({ STAGE: 'test' }));
    form.append('secrets', JSON.stringify({ FORM_SECRET: SECRET_VALUE }));
    form.append('files', new Blob(['a,b\n1,2\n'], { type: 'text/csv' }), 'data.csv');
    form.append('files', new Blob(['some notes'], { type: 'text/plain' }), 'notes.txt');
    const id = await api.createTask(form);
    const task = await api.waitForStatus(id, 'completed');
    expect(task).toMatchObject({ message: 'hello [create-multipart]', systemPrompt: 'Form system prompt.', showInHistory: false, autoExecute: false, env: { STAGE: 'test' } });
    expect(JSON.stringify(task)).not.toContain(SECRET_VALUE);
    const history = await api.call('GET', `/tasks/${id}/history`);
    expect(history.body.data.messages[0]).toMatchObject({
      role: 'user',
      content: 'hello [create-multipart]',
      attachedFiles: [
        { name: 'data.csv', path: 'uploads/data.csv' },
        { name: 'notes.txt', path: 'uploads/notes.txt' },
      ],
    });
    // The agent is told where the files are.
    const userTurn = messageText(fake.requestsFor('[create-multipart]')[0]?.messages.find((message) => message.role === 'user'));
    expect(userTurn).toContain('uploads/data.csv');
    expect(userTurn).toContain('uploads/notes.txt');
    const artifacts = await api.call('GET', `/tasks/${id}/artifacts`);
    expect(artifacts.body.data.files.map((file: { path: string }) => file.path)).toEqual(['uploads/data.csv', 'uploads/notes.txt']);
  });

  it('reads autoExecute and showInHistory given as the strings "true" when the body is multipart', async () => {
    const form = new FormData();
    form.append('message', 'hello [create-multipart-true]');
    form.append('autoExecute', 'true');
    form.append('showInHistory', 'true');
    const id = await api.createTask(form);
    expect(await api.waitForStatus(id, 'completed')).toMatchObject({ autoExecute: true, showInHistory: true });
  });

  it('reads autoExecute given as the string "false" when the body is JSON', async () => {
    const id = await api.createTask({ message: 'hello [create-json-string]', autoExecute: 'false', showInHistory: 'false' });
    expect(await api.waitForStatus(id, 'completed')).toMatchObject({ autoExecute: false, showInHistory: false });
  });
});

describe('GET /api/v1/tasks/{id}', () => {
  it('shows running status and the partial output when the agent is mid-answer', async () => {
    // 400 ms between chunks leaves a wide window in which only the first part has streamed.
    fake.scenario('[get-running]', () => ({ text: ['First part. ', 'Second part.'], delayMs: 400 }));
    const id = await api.createTask({ message: 'hello [get-running]' });
    const task = await waitFor('the first part in output', async () => {
      const current = await api.getTask(id);
      return current.output?.content === 'First part. ' ? current : undefined;
    });
    expect(task).toMatchObject({ status: 'running', startedAt: expect.stringMatching(ISO_MS), completedAt: null });
    const done = await api.waitForStatus(id, 'completed');
    expect(done.output?.content).toBe('First part. Second part.');
    expect(done.completedAt).toMatch(ISO_MS);
  });

  it('returns output with thoughts and tool calls when the agent used a tool', async () => {
    fake.scenario('[get-tools]', (_request, index) =>
      index === 0
        ? { reasoning: '**Looking** at the workspace first.', text: 'Listing.', toolCalls: [{ name: 'list_directory', args: { path: '.' }, id: 'call_get_1' }] }
        : { text: 'The workspace has uploads and downloads.' },
    );
    const id = await api.createTask({ message: 'hello [get-tools]' });
    const task = await api.waitForStatus(id, 'completed');
    expect(task.output).toMatchObject({
      content: 'Listing.\n\nThe workspace has uploads and downloads.',
      thoughts: [{ subject: 'Looking', description: 'at the workspace first.' }],
      toolCalls: [{ callId: 'call_get_1', toolName: 'list_directory', status: 'success', args: { path: '.' }, output: expect.stringContaining('downloads') }],
    });
  });
});

describe('GET /api/v1/tasks', () => {
  it('pages with limit and offset and sorts by most recent activity when a project has several tasks', async () => {
    const lister = createApiClient(server.url, (await server.createApiKey('listing')).key);
    const ids: string[] = [];
    for (const name of ['a', 'b', 'c']) {
      const id = await lister.createTask({ message: `hello [list-${name}]` });
      await lister.waitForStatus(id, 'completed');
      ids.push(id);
    }
    const [a, b, c] = ids as [string, string, string];
    // A follow-up makes the oldest task the most recently active one.
    expect((await lister.call('POST', `/tasks/${a}/messages`, { message: 'again' })).status).toBe(200);
    await lister.waitForStatus(a, 'completed');

    const first = await lister.call('GET', '/tasks?limit=2&offset=0');
    expect(first.status).toBe(200);
    expect(first.body.success).toBe(true);
    expect(first.body.pagination).toEqual({ total: 3, limit: 2, offset: 0, hasMore: true });
    expect(first.body.data.map((task: { id: string }) => task.id)).toEqual([a, c]);
    const second = await lister.call('GET', '/tasks?limit=2&offset=2');
    expect(second.body.pagination).toEqual({ total: 3, limit: 2, offset: 2, hasMore: false });
    expect(second.body.data.map((task: { id: string }) => task.id)).toEqual([b]);

    const all = await lister.call('GET', '/tasks');
    expect(all.body.pagination).toEqual({ total: 3, limit: 50, offset: 0, hasMore: false });
    const byId = new Map(all.body.data.map((task: { id: string }) => [task.id, task]));
    expect(byId.get(a)).toMatchObject({ messageCount: 4, status: 'completed', message: 'hello [list-a]', lastActivityAt: expect.stringMatching(ISO_MS) });
    expect(byId.get(b)).toMatchObject({ messageCount: 2 });
    for (const task of all.body.data) {
      expect(task).not.toHaveProperty('output');
      expect(task).not.toHaveProperty('pendingApprovals');
      expect(Date.parse(task.lastActivityAt)).toBeGreaterThanOrEqual(Date.parse(task.completedAt));
    }
  });

  it('counts no messages beyond the first when a task has only just been created', async () => {
    const fresh = createApiClient(server.url, (await server.createApiKey('listing-fresh')).key);
    fake.scenario('[list-fresh]', () => ({ hang: true }));
    const id = await fresh.createTask({ message: 'hello [list-fresh]' });
    const list = await fresh.call('GET', '/tasks');
    expect(list.body.data).toEqual([expect.objectContaining({ id, messageCount: 1, lastActivityAt: expect.stringMatching(ISO_MS) })]);
    await fresh.call('DELETE', `/tasks/${id}`);
  });
});

describe('messageCount', () => {
  it('equals the number of history messages when a task failed, was cancelled or completed', async () => {
    const counter = createApiClient(server.url, (await server.createApiKey('counting')).key);
    fake.scenario('[count-failed]', () => ({ error: { status: 400, message: 'bad request' } }));
    fake.scenario('[count-cancelled]', () => ({ text: Array.from({ length: 100 }, (_, index) => `w${index} `), delayMs: 30 }));
    const failed = await counter.createTask({ message: 'hello [count-failed]' });
    const completed = await counter.createTask({ message: 'hello [count-completed]' });
    const cancelled = await counter.createTask({ message: 'hello [count-cancelled]' });
    await counter.stream(cancelled, { until: (event) => event.event === 'content' });
    await counter.call('DELETE', `/tasks/${cancelled}`);
    await counter.waitForStatus(failed, 'failed');
    await counter.waitForStatus(completed, 'completed');
    const list = (await counter.call('GET', '/tasks')).body.data as Array<{ id: string; messageCount: number }>;
    const counts: Record<string, [number, number]> = {};
    for (const [name, id] of Object.entries({ failed, completed, cancelled })) {
      const history = (await counter.call('GET', `/tasks/${id}/history`)).body.data.messages.length;
      counts[name] = [list.find((task) => task.id === id)!.messageCount, history];
    }
    expect(counts).toEqual({ failed: [2, 2], completed: [2, 2], cancelled: [2, 2] });
  });
});

describe('GET /api/v1/tasks/{id}/history', () => {
  it('returns the conversation in order with tool calls and their output when the task is finished', async () => {
    fake.scenario('[history]', (_request, index) =>
      index === 0 ? { text: 'Let me look.', toolCalls: [{ name: 'list_directory', args: { path: '.' }, id: 'call_hist' }] } : { reasoning: 'Done looking.', text: 'All listed.' },
    );
    const id = await api.createTask({ message: 'hello [history]' });
    const task = await api.waitForStatus(id, 'completed');
    const response = await api.call('GET', `/tasks/${id}/history`);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      success: true,
      data: {
        taskId: id,
        conversationId: task.conversationId,
        status: 'completed',
        messages: [
          { id: 'msg-1', role: 'user', content: 'hello [history]', createdAt: expect.stringMatching(ISO_MS) },
          {
            id: 'msg-2',
            role: 'assistant',
            content: 'Let me look.\n\nAll listed.',
            createdAt: expect.stringMatching(ISO_MS),
            thoughts: [{ subject: 'Thinking', description: 'Done looking.' }],
            toolCalls: [{ callId: 'call_hist', toolName: 'list_directory', status: 'success', args: { path: '.' }, output: expect.any(String) }],
          },
        ],
      },
    });
  });
});
