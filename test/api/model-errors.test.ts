import { describe, expect, it } from 'vitest';
import { liveEvents } from '../support/api-client.ts';
import { useApiServer } from '../support/use-api-server.ts';

// Two retries after the first attempt (the default), 20 ms apart then 40 ms; a silent model fails after 300 ms.
const ctx = useApiServer({ env: { CONCIERGE_MODEL_MAX_RETRIES: '2', CONCIERGE_MODEL_IDLE_TIMEOUT_MS: '300' } });

const UNAVAILABLE = 'The AI model is unavailable right now. Please try again in a moment.';

/** The server's log lines that mention a task (its JSON logs carry `taskId`). */
const logLinesOf = (id: string) => ctx.server.lines.filter((line) => line.includes(id));

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

  it('fails the task with a human message, MODEL_UNAVAILABLE and the detail in the log when the model always answers 503', async () => {
    ctx.fake.scenario('[always-503]', () => ({ error: { status: 503, message: 'The server is overloaded' } }));
    const id = await ctx.api.createTask({ message: 'hello [always-503]' });
    const events = await ctx.api.stream(id);
    const last = events.at(-1);
    expect(last).toEqual({ event: 'error', data: { code: 'MODEL_UNAVAILABLE', message: UNAVAILABLE }, id: expect.any(String) });
    const visible = events.filter((event) => event.event === 'status' || event.event === 'error').map((event) => JSON.stringify(event.data));
    expect(visible.join('\n')).not.toMatch(/HTTP|503|overloaded/);
    expect(visible).toContain(JSON.stringify({ status: 'retrying', message: 'The AI model is unavailable; trying again…' }));
    expect(logLinesOf(id).some((line) => line.includes('HTTP 503') && line.includes('The server is overloaded'))).toBe(true);
    expect(events.filter((event) => event.event === 'status' && (event.data as { status: string }).status === 'retrying')).toHaveLength(2);
    expect(events.filter((event) => event.event === 'done')).toEqual([]);
    const task = await ctx.api.getTask(id);
    expect(task).toMatchObject({ status: 'failed', completedAt: expect.any(String) });
    expect(task.error).toBe(UNAVAILABLE);
    expect(task.error).toBe((last?.data as { message: string } | undefined)?.message);
    expect(ctx.fake.requestsFor('[always-503]')).toHaveLength(3);
  });

  it('fails at once without retrying when the model answers a non-retryable 400', async () => {
    ctx.fake.scenario('[bad-request]', () => ({ error: { status: 400, message: 'context length exceeded' } }));
    const id = await ctx.api.createTask({ message: 'hello [bad-request]' });
    const events = await ctx.api.stream(id);
    expect(events.at(-1)).toMatchObject({ event: 'error', data: { code: 'MODEL_ERROR', message: 'The AI model could not handle this request.' } });
    expect(logLinesOf(id).some((line) => line.includes('context length exceeded'))).toBe(true);
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
    expect(task.error).toBe(UNAVAILABLE);
    expect(task.output).toMatchObject({ content: 'Looking first.', toolCalls: [{ toolName: 'list_directory', status: 'success' }] });
  });

  it('honours Retry-After on a 429 and then completes', async () => {
    ctx.fake.scenario('[429-retry-after]', (_request, index) =>
      index === 0 ? { error: { status: 429, message: 'Rate limit reached', headers: { 'retry-after': '1' } } } : { text: 'After the pause.' },
    );
    const id = await ctx.api.createTask({ message: 'hello [429-retry-after]' });
    const events = liveEvents(await ctx.api.stream(id, { query: '?after=0' }));
    expect(events.find((event) => event.event === 'status' && (event.data as { status: string }).status === 'retrying')?.data).toEqual({
      status: 'retrying',
      message: 'The AI model is busy; trying again…',
    });
    expect(events.at(-1)).toMatchObject({ event: 'done', data: { finalResponse: 'After the pause.' } });
  });

  it('resets live clients and stores only the retried attempt when the stream is cut mid-way', async () => {
    ctx.fake.scenario('[cut-stream]', (_request, index) => (index === 0 ? { text: ['The first ', 'attempt ', 'was cut'], cutAfter: 2 } : { text: ['The whole ', 'answer.'] }));
    const id = await ctx.api.createTask({ message: 'hello [cut-stream]' });
    const events = liveEvents(await ctx.api.stream(id, { query: '?after=0' }));
    const retrying = events.findIndex((event) => event.event === 'status' && (event.data as { status: string }).status === 'retrying');
    expect(events[retrying]?.data).toMatchObject({ status: 'retrying', resetContent: true, message: expect.any(String) });
    const partialTexts = (from: number, to?: number) =>
      events.slice(from, to).filter((event) => event.event === 'content' && (event.data as { isPartial: boolean }).isPartial).map((event) => (event.data as { text: string }).text);
    expect(partialTexts(0, retrying).join('')).toBe('The first attempt ');
    expect(partialTexts(retrying).join('')).toBe('The whole answer.');
    const history = await ctx.api.call('GET', `/tasks/${id}/history`);
    expect(history.body.data.messages.map((message: { role: string; content: string }) => [message.role, message.content])).toEqual([
      ['user', 'hello [cut-stream]'],
      ['assistant', 'The whole answer.'],
    ]);
    expect((await ctx.api.getTask(id)).output?.content).toBe('The whole answer.');
  });

  it('surfaces an in-stream error chunk as a readable message, never [object Object]', async () => {
    ctx.fake.scenario('[stream-error]', () => ({ text: 'Starting', streamError: { message: 'The model crashed mid-answer', type: 'server_error' } }));
    const id = await ctx.api.createTask({ message: 'hello [stream-error]' });
    const events = await ctx.api.stream(id);
    expect(events.at(-1)).toMatchObject({ event: 'error', data: { code: 'MODEL_UNAVAILABLE', message: UNAVAILABLE } });
    expect(JSON.stringify(events)).not.toContain('[object Object]');
    expect(logLinesOf(id).some((line) => line.includes('The model crashed mid-answer'))).toBe(true);
  });

  it('fails a model that connects and then sends nothing after CONCIERGE_MODEL_IDLE_TIMEOUT_MS', async () => {
    ctx.fake.scenario('[silent-model]', () => ({ silent: true }));
    const id = await ctx.api.createTask({ message: 'hello [silent-model]' });
    const events = await ctx.api.stream(id);
    expect(events.at(-1)).toMatchObject({ event: 'error', data: { code: 'MODEL_TIMEOUT', message: 'The AI model stopped responding. Please try again.' } });
    expect(ctx.fake.requestsFor('[silent-model]')).toHaveLength(3);
  });
});
