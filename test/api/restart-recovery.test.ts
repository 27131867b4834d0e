import { describe, expect, it } from 'vitest';
import { liveEvents } from '../support/api-client.ts';
import { waitFor } from '../support/wait-for.ts';
import { useApiServer } from '../support/use-api-server.ts';

const ctx = useApiServer();

const CHUNKS = Array.from({ length: 30 }, (_, index) => `part${index} `);
const FULL_TEXT = CHUNKS.join('');

describe('restart recovery', () => {
  it('resumes and completes a task when the server is killed with SIGKILL mid-stream', async () => {
    // The first attempt streams slowly so the kill lands mid-answer; the resumed attempt is quick.
    ctx.fake.scenario('[restart-mid]', (_request, index) => ({ text: CHUNKS, delayMs: index === 0 ? 100 : 0 }));
    const id = await ctx.api.createTask({ message: 'talk [restart-mid]' });
    let contents = 0;
    const before = await ctx.api.stream(id, { until: (event) => event.event === 'content' && ++contents === 3 });
    const lastSeen = before.at(-1)!.id!;
    await ctx.server.kill('SIGKILL');
    await ctx.server.restart();

    const task = await ctx.api.waitForStatus(id, ['completed', 'failed', 'cancelled']);
    expect(task.status).toBe('completed');
    expect(task.output?.content).toBe(FULL_TEXT);
    expect(ctx.fake.requestsFor('[restart-mid]')).toHaveLength(2);
    // A fresh stream replays the whole conversation.
    const replay = await ctx.api.stream(id);
    expect(replay.filter((event) => event.event === 'history_message').map((event) => (event.data as { content: string }).content)).toEqual([
      'talk [restart-mid]',
      FULL_TEXT,
    ]);
    expect(replay.at(-1)).toMatchObject({ event: 'history_done', data: { messageCount: 2, isStreaming: false } });
    // Resuming from the last event seen before the crash continues with fresh sequence numbers up to done.
    const resumed = liveEvents(await ctx.api.stream(id, { headers: { 'Last-Event-ID': lastSeen } }));
    const seqs = resumed.map((event) => Number(event.id));
    expect(seqs[0]).toBe(Number(lastSeen) + 1);
    expect(seqs).toEqual([...new Set(seqs)].sort((a, b) => a - b));
    expect(resumed.at(-1)).toEqual({ event: 'done', data: { finalResponse: FULL_TEXT }, id: expect.any(String) });
    // The resumed run first resets the message to its saved text (none yet), then streams the answer
    // once: applying the events in order gives the answer exactly, with no duplicated partial text.
    expect(resumed.find((event) => event.event === 'content')).toMatchObject({ data: { text: '', isPartial: false } });
    let shown = before.filter((event) => event.event === 'content').map((event) => (event.data as { text: string }).text).join('');
    for (const event of resumed.filter((item) => item.event === 'content')) {
      const { text, isPartial } = event.data as { text: string; isPartial: boolean };
      shown = isPartial ? shown + text : text;
      if (isPartial) expect(FULL_TEXT.startsWith(shown)).toBe(true);
    }
    expect(shown).toBe(FULL_TEXT);
  });

  it('keeps a pending approval across a SIGKILL restart and runs the call when approved afterwards', async () => {
    const id = await ctx.api.createTask({ message: 'list files [restart-approval]', autoExecute: false });
    const before = await ctx.api.waitForStatus(id, 'awaiting_approval');
    const pending = before.pendingApprovals;
    expect(pending).toHaveLength(1);
    await ctx.server.kill('SIGKILL');
    await ctx.server.restart();

    const after = await ctx.api.getTask(id);
    expect(after.status).toBe('awaiting_approval');
    expect(after.pendingApprovals).toEqual(pending);
    // The model is not asked again while the approval is pending.
    expect(ctx.fake.requestsFor('[restart-approval]')).toHaveLength(1);
    const approved = await ctx.api.call('POST', `/tasks/${id}/tools/${pending![0]!.callId}/approve`, { outcome: 'proceed_once' });
    expect(approved.body).toEqual({ success: true, data: { approved: true } });
    const done = await ctx.api.waitForStatus(id, ['completed', 'failed']);
    expect(done.status).toBe('completed');
    expect(done.output?.toolCalls).toEqual([expect.objectContaining({ callId: pending![0]!.callId, status: 'success' })]);
    // The announcement is not repeated on resume.
    const events = await ctx.api.stream(id, { query: '?after=0' });
    expect(events.filter((event) => event.event === 'tool_call' && (event.data as { status: string }).status === 'awaiting_approval')).toHaveLength(1);
  });

  it('finishes the task when the server is killed while a tool call is executing', async () => {
    const id = await ctx.api.createTask({ message: 'run `sleep 1; echo slept` [restart-tool]' });
    const seen = await ctx.api.stream(id, { query: '?after=0', until: (event) => event.event === 'tool_call' && (event.data as { status: string }).status === 'executing' });
    expect(seen.at(-1)?.event).toBe('tool_call');
    await ctx.server.kill('SIGKILL');
    await ctx.server.restart();
    const task = await ctx.api.waitForStatus(id, ['completed', 'failed', 'cancelled']);
    expect(task.status).toBe('completed');
    // The interrupted call was run again after the restart and its result reached the model.
    expect(task.output?.toolCalls).toEqual([expect.objectContaining({ toolName: 'run_shell_command', status: 'success', output: expect.stringContaining('slept') })]);
  });

  it('fails a task that has secrets with a plain reason when the server restarts mid-task', async () => {
    ctx.fake.scenario('[restart-secrets]', () => ({ hang: true }));
    const id = await ctx.api.createTask({ message: 'hello [restart-secrets]', secrets: { DB_PASSWORD: 'hunter2-hunter2' } });
    await waitFor('the model request', () => ctx.fake.requestsFor('[restart-secrets]').length > 0);
    await ctx.server.kill('SIGKILL');
    await ctx.server.restart();

    const task = await ctx.api.waitForStatus(id, ['failed', 'completed', 'cancelled']);
    expect(task.status).toBe('failed');
    expect(task.error).toMatch(/secrets/i);
    expect(task.error).toMatch(/restart/i);
    const events = await ctx.api.stream(id, { query: '?after=0' });
    expect(events.at(-1)).toMatchObject({ event: 'error', data: { code: 'SECRETS_LOST', message: task.error } });
    expect(JSON.stringify(events)).not.toContain('hunter2-hunter2');
    expect(ctx.fake.requestsFor('[restart-secrets]')).toHaveLength(1);
  });

  it('leaves no task running when the server is stopped with SIGTERM during a task', async () => {
    ctx.fake.scenario('[restart-sigterm]', () => ({ text: CHUNKS.slice(0, 10), delayMs: 50 }));
    const id = await ctx.api.createTask({ message: 'talk [restart-sigterm]' });
    await waitFor('the model request', () => ctx.fake.requestsFor('[restart-sigterm]').length > 0);
    await ctx.server.kill('SIGTERM');
    expect(ctx.server.process.exitCode).toBe(0);
    await ctx.server.restart();
    const task = await ctx.api.waitForStatus(id, ['completed', 'failed', 'cancelled']);
    expect(task.status).toBe('completed');
    expect(task.output?.content).toBe(CHUNKS.slice(0, 10).join(''));
  });

  it('keeps finished tasks, their history and the API keys when the server restarts', async () => {
    const id = await ctx.api.createTask({ message: 'hello [restart-finished]' });
    const before = await ctx.api.waitForStatus(id, 'completed');
    const history = (await ctx.api.call('GET', `/tasks/${id}/history`)).body;
    await ctx.server.kill('SIGKILL');
    await ctx.server.restart();
    expect(await ctx.api.getTask(id)).toEqual(before);
    expect((await ctx.api.call('GET', `/tasks/${id}/history`)).body).toEqual(history);
  });
});
