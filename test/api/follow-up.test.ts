import { describe, expect, it } from 'vitest';
import { createGate, messageText, } from '../support/fake-model.ts';
import { waitFor } from '../support/wait-for.ts';
import { useApiServer } from '../support/use-api-server.ts';

const ctx = useApiServer();

describe('POST /api/v1/tasks/{id}/messages', () => {
  it('sends the model the full prior conversation when a follow-up continues a finished task', async () => {
    const id = await ctx.api.createTask({ message: 'list files [follow-history]' });
    await ctx.api.waitForStatus(id, 'completed');
    const response = await ctx.api.call('POST', `/tasks/${id}/messages`, { message: 'thanks, and now?' });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ success: true, data: { status: 'running' } });
    const task = await ctx.api.waitForStatus(id, 'completed');

    const requests = ctx.fake.requestsFor('[follow-history]');
    expect(requests).toHaveLength(3);
    const roles = requests[2]!.messages.map((message) => message.role);
    expect(roles).toEqual(['user', 'assistant', 'tool', 'assistant', 'user']);
    const [user1, callStep, toolResult, answer1, user2] = requests[2]!.messages;
    expect(messageText(user1)).toBe('list files [follow-history]');
    expect(callStep?.tool_calls?.[0]?.function.name).toBe('list_directory');
    expect(toolResult?.tool_call_id).toBe(callStep?.tool_calls?.[0]?.id);
    expect(messageText(answer1)).toContain('Here is what is in your workspace');
    expect(messageText(user2)).toBe('thanks, and now?');

    expect(task.message).toBe('list files [follow-history]');
    const history = await ctx.api.call('GET', `/tasks/${id}/history`);
    expect(history.body.data.messages.map((message: { id: string; role: string }) => [message.id, message.role])).toEqual([
      ['msg-1', 'user'],
      ['msg-2', 'assistant'],
      ['msg-3', 'user'],
      ['msg-4', 'assistant'],
    ]);
    expect(history.body.data.messages[2].content).toBe('thanks, and now?');
    expect(task.output?.content).toBe(history.body.data.messages[3].content);
  });

  it('replays the whole conversation including the follow-up when the stream is reopened', async () => {
    ctx.fake.scenario('[follow-stream]', (_request, index) => ({ text: `Answer ${index + 1}.` }));
    const id = await ctx.api.createTask({ message: 'first [follow-stream]' });
    await ctx.api.waitForStatus(id, 'completed');
    await ctx.api.call('POST', `/tasks/${id}/messages`, { message: 'second' });
    const events = await ctx.api.stream(id);
    const replayed = events.filter((event) => event.event === 'history_message').map((event) => (event.data as { content: string }).content);
    expect(replayed[0]).toBe('first [follow-stream]');
    expect(replayed[1]).toBe('Answer 1.');
    expect(replayed[2]).toBe('second');
    expect(events.at(-1)).toMatchObject({ event: 'done', data: { finalResponse: 'Answer 2.' } });
  });

  it('answers 409 TASK_BUSY when the task is still running', async () => {
    const gate = createGate();
    ctx.fake.scenario('[follow-busy]', async () => {
      await gate.promise;
      return { text: 'Finally.' };
    });
    const id = await ctx.api.createTask({ message: 'wait [follow-busy]' });
    await waitFor('the model request', () => ctx.fake.requestsFor('[follow-busy]').length > 0);
    const busy = await ctx.api.call('POST', `/tasks/${id}/messages`, { message: 'are you there?' });
    expect(busy.status).toBe(409);
    expect(busy.body).toEqual({ success: false, error: { code: 'TASK_BUSY', message: expect.stringContaining(id) } });
    gate.open();
    await ctx.api.waitForStatus(id, 'completed');
    // Nothing of the refused follow-up was recorded.
    const history = await ctx.api.call('GET', `/tasks/${id}/history`);
    expect(history.body.data.messages).toHaveLength(2);
  });

  it('answers 409 TASK_BUSY when the task waits for an approval', async () => {
    const id = await ctx.api.createTask({ message: 'list files [follow-approval]', autoExecute: false });
    await ctx.api.waitForStatus(id, 'awaiting_approval');
    const busy = await ctx.api.call('POST', `/tasks/${id}/messages`, { message: 'never mind' });
    expect(busy.status).toBe(409);
    expect(busy.body.error.code).toBe('TASK_BUSY');
    await ctx.api.call('DELETE', `/tasks/${id}`);
  });

  it('continues a task with a follow-up when the task failed', async () => {
    ctx.fake.scenario('[follow-failed]', (_request, index) => (index < 3 ? { error: { status: 503, message: 'down' } } : { text: 'Back up.' }));
    const id = await ctx.api.createTask({ message: 'hello [follow-failed]' });
    expect((await ctx.api.waitForStatus(id, 'failed')).error).toContain('The AI model is unavailable');
    await ctx.api.call('POST', `/tasks/${id}/messages`, { message: 'try again' });
    const task = await ctx.api.waitForStatus(id, 'completed');
    expect(task).toMatchObject({ error: null, output: { content: 'Back up.' } });
  });

  it('stores uploaded files and lists them on the message when the follow-up is multipart', async () => {
    const id = await ctx.api.createTask({ message: 'hello [follow-files]' });
    await ctx.api.waitForStatus(id, 'completed');
    const form = new FormData();
    form.append('message', 'here is more data');
    form.append('files', new Blob(['x,y\n'], { type: 'text/csv' }), 'more.csv');
    const response = await ctx.api.call('POST', `/tasks/${id}/messages`, form);
    expect(response.status).toBe(200);
    await ctx.api.waitForStatus(id, 'completed');
    const history = await ctx.api.call('GET', `/tasks/${id}/history`);
    expect(history.body.data.messages[2]).toMatchObject({ role: 'user', content: 'here is more data', attachedFiles: [{ name: 'more.csv', path: 'uploads/more.csv' }] });
    const lastUser = ctx.fake.requestsFor('[follow-files]').at(-1)!.messages.at(-1);
    expect(messageText(lastUser)).toContain('uploads/more.csv');
  });

  it('answers 400 VALIDATION_ERROR when the follow-up has no message', async () => {
    const id = await ctx.api.createTask({ message: 'hello [follow-empty]' });
    await ctx.api.waitForStatus(id, 'completed');
    const response = await ctx.api.call('POST', `/tasks/${id}/messages`, { message: '  ' });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('VALIDATION_ERROR');
  });

  it('answers 404 NOT_FOUND when the task does not exist', async () => {
    const response = await ctx.api.call('POST', '/tasks/00000000-0000-4000-8000-000000000000/messages', { message: 'hi' });
    expect(response.status).toBe(404);
    expect(response.body).toEqual({ success: false, error: { code: 'NOT_FOUND', message: expect.any(String) } });
  });
});
