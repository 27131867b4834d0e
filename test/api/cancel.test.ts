import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiClient, createApiClient } from '../support/api-client.ts';
import { createGate, messageText, } from '../support/fake-model.ts';
import { type SpawnedConcierge, spawnConcierge } from '../support/spawn-concierge.ts';
import { waitFor } from '../support/wait-for.ts';
import { useApiServer } from '../support/use-api-server.ts';

const ctx = useApiServer();

describe('DELETE /api/v1/tasks/{id}', () => {
  it('cancels the task and ends the open stream with status cancelled when the task is running', async () => {
    ctx.fake.scenario('[cancel-running]', () => ({ text: Array.from({ length: 200 }, (_, index) => `w${index} `), delayMs: 25 }));
    const id = await ctx.api.createTask({ message: 'talk [cancel-running]' });
    let sawContent!: () => void;
    const contentSeen = new Promise<void>((resolve) => (sawContent = resolve));
    const stream = ctx.api.stream(id, {
      until: (event) => {
        if (event.event === 'content') sawContent();
        return false;
      },
    });
    await contentSeen;
    const response = await ctx.api.call('DELETE', `/tasks/${id}`);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ success: true, data: { message: 'Task cancelled' } });
    // The stream closes on its own after the terminal event (readSse would time out otherwise).
    const events = await stream;
    expect(events.at(-1)).toEqual({ event: 'status', data: { status: 'cancelled' }, id: expect.any(String) });
    expect(events.filter((event) => event.event === 'done')).toEqual([]);
    const task = await ctx.api.getTask(id);
    expect(task).toMatchObject({ status: 'cancelled', completedAt: expect.any(String) });
    // Nothing more is produced after the cancel.
    const count = (await ctx.api.stream(id, { query: '?after=0' })).length;
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await ctx.api.stream(id, { query: '?after=0' })).length).toBe(count);
  });

  it('cancels a task whose model call hangs when the task is waiting on the model', async () => {
    ctx.fake.scenario('[cancel-hang]', () => ({ hang: true }));
    const id = await ctx.api.createTask({ message: 'hello [cancel-hang]' });
    await waitFor('the model request', () => ctx.fake.requestsFor('[cancel-hang]').length > 0);
    const started = Date.now();
    expect((await ctx.api.call('DELETE', `/tasks/${id}`)).status).toBe(200);
    expect(Date.now() - started).toBeLessThan(5000);
    expect((await ctx.api.getTask(id)).status).toBe('cancelled');
  });

  it('rejects the pending tool call when the task is awaiting approval', async () => {
    const id = await ctx.api.createTask({ message: 'list files [cancel-approval]', autoExecute: false });
    const pending = await ctx.api.waitForStatus(id, 'awaiting_approval');
    const callId = pending.pendingApprovals![0]!.callId;
    expect((await ctx.api.call('DELETE', `/tasks/${id}`)).status).toBe(200);
    const task = await ctx.api.getTask(id);
    expect(task.status).toBe('cancelled');
    expect(task).not.toHaveProperty('pendingApprovals');
    const events = await ctx.api.stream(id, { query: '?after=0' });
    expect(events.filter((event) => event.event === 'tool_result')).toEqual([
      { event: 'tool_result', data: expect.objectContaining({ callId, status: 'rejected' }), id: expect.any(String) },
    ]);
    expect(events.at(-1)?.data).toEqual({ status: 'cancelled' });
    const approve = await ctx.api.call('POST', `/tasks/${id}/tools/${callId}/approve`, { outcome: 'proceed_once' });
    expect(approve.status).toBe(404);
  });

  it('lets a follow-up continue the conversation when the task was cancelled', async () => {
    const id = await ctx.api.createTask({ message: 'list files [cancel-then-follow]', autoExecute: false });
    await ctx.api.waitForStatus(id, 'awaiting_approval');
    await ctx.api.call('DELETE', `/tasks/${id}`);
    expect((await ctx.api.call('POST', `/tasks/${id}/messages`, { message: 'hello again' })).status).toBe(200);
    const task = await ctx.api.waitForStatus(id, ['completed', 'failed']);
    expect(task.status).toBe('completed');
    // The model saw the cancelled call answered, then the new message.
    const last = ctx.fake.requestsFor('[cancel-then-follow]').at(-1)!;
    expect(last.messages.map((message) => message.role)).toEqual(['user', 'assistant', 'tool', 'user']);
    expect(messageText(last.messages[2])).toContain('cancelled');
  });

  it('replays the cancelled task and closes at once when a stream opens after the cancel', async () => {
    ctx.fake.scenario('[cancel-replay]', () => ({ hang: true }));
    const id = await ctx.api.createTask({ message: 'hello [cancel-replay]' });
    await waitFor('the model request', () => ctx.fake.requestsFor('[cancel-replay]').length > 0);
    await ctx.api.call('DELETE', `/tasks/${id}`);
    const events = await ctx.api.stream(id, { timeoutMs: 5000 });
    // The cancelled turn stays in history as an assistant message that says so.
    expect(events.at(-2)).toMatchObject({ event: 'history_message', data: { role: 'assistant', interrupted: { reason: 'cancelled' } } });
    expect(events.at(-1)).toMatchObject({ event: 'history_done', data: { messageCount: 2, isStreaming: false } });
  });

  it('answers 409 TASK_NOT_ACTIVE when the task has already finished', async () => {
    const id = await ctx.api.createTask({ message: 'hello [cancel-finished]' });
    await ctx.api.waitForStatus(id, 'completed');
    const response = await ctx.api.call('DELETE', `/tasks/${id}`);
    expect(response.status).toBe(409);
    expect(response.body).toEqual({ success: false, error: { code: 'TASK_NOT_ACTIVE', message: expect.stringContaining('completed') } });
    expect((await ctx.api.getTask(id)).status).toBe('completed');
  });

  it('cancels once and answers 409 to the other when two cancels race', async () => {
    ctx.fake.scenario('[cancel-race]', () => ({ hang: true }));
    const id = await ctx.api.createTask({ message: 'hello [cancel-race]' });
    await waitFor('the model request', () => ctx.fake.requestsFor('[cancel-race]').length > 0);
    const answers = await Promise.all([ctx.api.call('DELETE', `/tasks/${id}`), ctx.api.call('DELETE', `/tasks/${id}`)]);
    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 409]);
    const events = await ctx.api.stream(id, { query: '?after=0' });
    expect(events.filter((event) => event.event === 'status' && (event.data as { status: string }).status === 'cancelled')).toHaveLength(1);
  });

  it('answers 404 NOT_FOUND when the task does not exist', async () => {
    const response = await ctx.api.call('DELETE', '/tasks/00000000-0000-4000-8000-000000000000');
    expect(response.status).toBe(404);
    expect(response.body.error.code).toBe('NOT_FOUND');
  });
});

describe('DELETE /api/v1/tasks/{id} on a queued task', () => {
  let single: SpawnedConcierge;
  let queuedApi: ApiClient;

  beforeAll(async () => {
    // One agent loop at a time, so a second task waits in the queue as pending.
    single = await spawnConcierge({ llmBaseUrl: ctx.fake.url, env: { CONCIERGE_MAX_CONCURRENT_TASKS: '1' } });
    queuedApi = createApiClient(single.url, (await single.createApiKey()).key);
  });

  afterAll(async () => {
    await single?.stop();
  });

  it('cancels the task before it ever runs when it is still pending in the queue', async () => {
    const gate = createGate();
    ctx.fake.scenario('[queue-first]', async () => {
      await gate.promise;
      return { text: 'First done.' };
    });
    const first = await queuedApi.createTask({ message: 'hello [queue-first]' });
    const queued = await queuedApi.createTask({ message: 'hello [queue-second]' });
    await waitFor('the first model request', () => ctx.fake.requestsFor('[queue-first]').length > 0);
    expect((await queuedApi.getTask(queued)).status).toBe('pending');
    const stream = queuedApi.stream(queued);
    const response = await queuedApi.call('DELETE', `/tasks/${queued}`);
    expect(response.status).toBe(200);
    expect((await stream).at(-1)).toEqual({ event: 'status', data: { status: 'cancelled' }, id: expect.any(String) });
    gate.open();
    await queuedApi.waitForStatus(first, 'completed');
    // The queue moved on without running the cancelled task.
    expect((await queuedApi.getTask(queued)).status).toBe('cancelled');
    expect(ctx.fake.requestsFor('[queue-second]')).toHaveLength(0);
  });
});

