import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiClient, createApiClient, liveEvents } from '../support/api-client.ts';
import { type FakeModel, startFakeModel } from '../support/fake-model.ts';
import { type SpawnedConcierge, spawnConcierge } from '../support/spawn-concierge.ts';

let fake: FakeModel;
let server: SpawnedConcierge;
let api: ApiClient;

beforeAll(async () => {
  fake = await startFakeModel();
  // Two retries after the first attempt (the default), 20 ms apart then 40 ms.
  server = await spawnConcierge({ llmBaseUrl: fake.url, env: { CONCIERGE_MODEL_MAX_RETRIES: '2' } });
  api = createApiClient(server.url, (await server.createApiKey()).key);
});

afterAll(async () => {
  await server?.stop();
  await fake?.close();
});

describe('model errors', () => {
  it('emits status retrying twice and then completes when the model answers 503 twice then succeeds', async () => {
    fake.scenario('[retry-then-ok]', (_request, index) => (index < 2 ? { error: { status: 503, message: 'The server is overloaded' } } : { text: 'Third time lucky.' }));
    const id = await api.createTask({ message: 'hello [retry-then-ok]' });
    const events = liveEvents(await api.stream(id, { query: '?after=0' }));
    const statuses = events.filter((event) => event.event === 'status').map((event) => (event.data as { status: string }).status);
    expect(statuses).toEqual(['connecting', 'processing', 'retrying', 'processing', 'retrying', 'processing']);
    expect(events.find((event) => event.event === 'status' && (event.data as { status: string }).status === 'retrying')?.data).toMatchObject({
      status: 'retrying',
      message: expect.any(String),
    });
    expect(events.filter((event) => event.event === 'error')).toEqual([]);
    expect(events.at(-1)).toMatchObject({ event: 'done', data: { finalResponse: 'Third time lucky.' } });
    expect(fake.requestsFor('[retry-then-ok]')).toHaveLength(3);
    expect(await api.getTask(id)).toMatchObject({ status: 'completed', error: null });
  });

  it('fails the task with error set and an error event when the model always answers 503', async () => {
    fake.scenario('[always-503]', () => ({ error: { status: 503, message: 'The server is overloaded' } }));
    const id = await api.createTask({ message: 'hello [always-503]' });
    const events = await api.stream(id);
    const last = events.at(-1);
    expect(last).toEqual({ event: 'error', data: { code: 'MODEL_ERROR', message: expect.stringContaining('overloaded') }, id: expect.any(String) });
    expect(events.filter((event) => event.event === 'status' && (event.data as { status: string }).status === 'retrying')).toHaveLength(2);
    expect(events.filter((event) => event.event === 'done')).toEqual([]);
    const task = await api.getTask(id);
    expect(task).toMatchObject({ status: 'failed', completedAt: expect.any(String) });
    expect(task.error).toContain('overloaded');
    expect(task.error).toBe((last?.data as { message: string } | undefined)?.message);
    expect(fake.requestsFor('[always-503]')).toHaveLength(3);
  });

  it('fails at once without retrying when the model answers a non-retryable 400', async () => {
    fake.scenario('[bad-request]', () => ({ error: { status: 400, message: 'context length exceeded' } }));
    const id = await api.createTask({ message: 'hello [bad-request]' });
    const events = await api.stream(id);
    expect(events.at(-1)).toMatchObject({ event: 'error', data: { code: 'MODEL_ERROR', message: expect.stringContaining('context length exceeded') } });
    const task = await api.getTask(id);
    expect(task.status).toBe('failed');
    expect(events.filter((event) => event.event === 'status' && (event.data as { status: string }).status === 'retrying')).toEqual([]);
    expect(fake.requestsFor('[bad-request]')).toHaveLength(1);
  });

  it('keeps the text streamed before the failure in the history when the model fails on a later step', async () => {
    fake.scenario('[fail-later]', (_request, index) =>
      index === 0 ? { text: 'Looking first.', toolCalls: [{ name: 'list_directory', args: { path: '.' } }] } : { error: { status: 503, message: 'gone away' } },
    );
    const id = await api.createTask({ message: 'hello [fail-later]' });
    const task = await api.waitForStatus(id, 'failed');
    expect(task.error).toContain('gone away');
    expect(task.output).toMatchObject({ content: 'Looking first.', toolCalls: [{ toolName: 'list_directory', status: 'success' }] });
  });
});
