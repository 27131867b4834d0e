import { describe, expect, it } from 'vitest';
import { liveEvents } from '../support/api-client.ts';
import { useApiServer } from '../support/use-api-server.ts';

// Two retries after the first attempt (the default), 20 ms apart then 40 ms.
const ctx = useApiServer({ env: { CONCIERGE_MODEL_MAX_RETRIES: '2' } });

describe('model errors', () => {
  it('emits status retrying twice and then completes when the model answers 503 twice then succeeds', async () => {
    ctx.fake.scenario('[retry-then-ok]', (_request, index) => (index < 2 ? { error: { status: 503, message: 'The server is overloaded' } } : { text: 'Third time lucky.' }));
    const id = await ctx.api.createTask({ message: 'hello [retry-then-ok]' });
    const events = liveEvents(await ctx.api.stream(id, { query: '?after=0' }));
    const statuses = events.filter((event) => event.event === 'status').map((event) => (event.data as { status: string }).status);
    expect(statuses).toEqual(['connecting', 'processing', 'retrying', 'processing', 'retrying', 'processing']);
    expect(events.find((event) => event.event === 'status' && (event.data as { status: string }).status === 'retrying')?.data).toMatchObject({
      status: 'retrying',
      message: expect.any(String),
    });
    expect(events.filter((event) => event.event === 'error')).toEqual([]);
    expect(events.at(-1)).toMatchObject({ event: 'done', data: { finalResponse: 'Third time lucky.' } });
    expect(ctx.fake.requestsFor('[retry-then-ok]')).toHaveLength(3);
    expect(await ctx.api.getTask(id)).toMatchObject({ status: 'completed', error: null });
  });

  it('fails the task with error set and an error event when the model always answers 503', async () => {
    ctx.fake.scenario('[always-503]', () => ({ error: { status: 503, message: 'The server is overloaded' } }));
    const id = await ctx.api.createTask({ message: 'hello [always-503]' });
    const events = await ctx.api.stream(id);
    const last = events.at(-1);
    expect(last).toEqual({ event: 'error', data: { code: 'MODEL_ERROR', message: expect.stringContaining('overloaded') }, id: expect.any(String) });
    expect(events.filter((event) => event.event === 'status' && (event.data as { status: string }).status === 'retrying')).toHaveLength(2);
    expect(events.filter((event) => event.event === 'done')).toEqual([]);
    const task = await ctx.api.getTask(id);
    expect(task).toMatchObject({ status: 'failed', completedAt: expect.any(String) });
    expect(task.error).toContain('overloaded');
    expect(task.error).toBe((last?.data as { message: string } | undefined)?.message);
    expect(ctx.fake.requestsFor('[always-503]')).toHaveLength(3);
  });

  it('fails at once without retrying when the model answers a non-retryable 400', async () => {
    ctx.fake.scenario('[bad-request]', () => ({ error: { status: 400, message: 'context length exceeded' } }));
    const id = await ctx.api.createTask({ message: 'hello [bad-request]' });
    const events = await ctx.api.stream(id);
    expect(events.at(-1)).toMatchObject({ event: 'error', data: { code: 'MODEL_ERROR', message: expect.stringContaining('context length exceeded') } });
    const task = await ctx.api.getTask(id);
    expect(task.status).toBe('failed');
    expect(events.filter((event) => event.event === 'status' && (event.data as { status: string }).status === 'retrying')).toEqual([]);
    expect(ctx.fake.requestsFor('[bad-request]')).toHaveLength(1);
  });

  it('keeps the text streamed before the failure in the history when the model fails on a later step', async () => {
    ctx.fake.scenario('[fail-later]', (_request, index) =>
      index === 0 ? { text: 'Looking first.', toolCalls: [{ name: 'list_directory', args: { path: '.' } }] } : { error: { status: 503, message: 'gone away' } },
    );
    const id = await ctx.api.createTask({ message: 'hello [fail-later]' });
    const task = await ctx.api.waitForStatus(id, 'failed');
    expect(task.error).toContain('gone away');
    expect(task.output).toMatchObject({ content: 'Looking first.', toolCalls: [{ toolName: 'list_directory', status: 'success' }] });
  });
});
