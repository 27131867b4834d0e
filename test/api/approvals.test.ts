import fs from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type ApiClient, createApiClient, type StreamedEvent } from '../support/api-client.ts';
import { type FakeChatRequest, messageText, } from '../support/fake-model.ts';
import { useApiServer } from '../support/use-api-server.ts';

const ctx = useApiServer();

/** Tool messages (results) the model received in a request. */
function toolMessages(request: FakeChatRequest | undefined): string[] {
  return (request?.messages ?? []).filter((message) => message.role === 'tool').map((message) => messageText(message));
}

/** Waits until the task waits for an approval; returns the (single) pending call. */
async function awaitApproval(id: string, client: ApiClient = ctx.api): Promise<{ callId: string; toolName: string; args: Record<string, unknown> }> {
  const task = await client.waitForStatus(id, ['awaiting_approval', 'completed', 'failed', 'cancelled']);
  expect(task.status).toBe('awaiting_approval');
  expect(task.pendingApprovals).toHaveLength(1);
  return task.pendingApprovals![0]!;
}

const ofType = (events: StreamedEvent[], type: string) => events.filter((event) => event.event === type).map((event) => event.data as Record<string, unknown>);

describe('approvals (autoExecute=false)', () => {
  it('announces tool_call awaiting_approval and lists pendingApprovals when autoExecute is false', async () => {
    const id = await ctx.api.createTask({ message: 'list files [approve-pending]', autoExecute: false });
    const events = await ctx.api.stream(id, { query: '?after=0', until: (event) => event.event === 'tool_call' });
    const call = events.at(-1)?.data as { callId: string };
    expect(events.at(-1)).toEqual({
      event: 'tool_call',
      data: { callId: expect.any(String), toolName: 'list_directory', status: 'awaiting_approval', args: { path: '.' } },
      id: expect.any(String),
    });
    const task = await ctx.api.waitForStatus(id, 'awaiting_approval');
    expect(task.pendingApprovals).toEqual([{ callId: call.callId, toolName: 'list_directory', args: { path: '.' } }]);
    expect(task.output?.toolCalls).toEqual([{ callId: call.callId, toolName: 'list_directory', status: 'awaiting_approval', args: { path: '.' } }]);
    // Nothing ran: the model has not been asked again.
    expect(ctx.fake.requestsFor('[approve-pending]')).toHaveLength(1);
    await ctx.api.call('DELETE', `/tasks/${id}`);
  });

  it('accepts an approval sent the moment the live tool_call arrives, in every round', async () => {
    for (let round = 0; round < 10; round++) {
      const id = await ctx.api.createTask({ message: `list files [approve-instant-${round}]`, autoExecute: false });
      let approval: Promise<{ status: number }> | undefined;
      await ctx.api.stream(id, {
        query: '?after=0',
        until: (event) => {
          const data = event.data as { callId?: string; status?: string };
          if (event.event !== 'tool_call' || data.status !== 'awaiting_approval') return false;
          approval = ctx.api.call('POST', `/tasks/${id}/tools/${data.callId}/approve`, { outcome: 'proceed_once' });
          return true;
        },
      });
      expect((await approval!).status).toBe(200);
      const task = await ctx.api.waitForStatus(id, ['completed', 'failed', 'cancelled', 'awaiting_approval']);
      expect(task.status).toBe('completed');
      const history = (await ctx.api.call('GET', `/tasks/${id}/history`)).body.data.messages as Array<{ toolCalls?: Array<{ status: string }> }>;
      expect(history.at(-1)?.toolCalls?.map((call) => call.status)).toEqual(['success']);
    }
  });

  it('runs the tool and finishes the task when the call is approved with proceed_once', async () => {
    const id = await ctx.api.createTask({ message: 'list files [approve-once]', autoExecute: false });
    const call = await awaitApproval(id);
    const response = await ctx.api.call('POST', `/tasks/${id}/tools/${call.callId}/approve`, { outcome: 'proceed_once' });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ success: true, data: { approved: true } });
    const events = await ctx.api.stream(id, { query: `?after=0` });
    expect(ofType(events, 'tool_call').map((data) => data.status)).toEqual(['awaiting_approval']);
    expect(ofType(events, 'tool_result')).toEqual([expect.objectContaining({ callId: call.callId, status: 'success', output: expect.stringContaining('downloads') })]);
    expect(events.at(-1)?.event).toBe('done');
    const task = await ctx.api.getTask(id);
    expect(task.status).toBe('completed');
    expect(task).not.toHaveProperty('pendingApprovals');
    expect(toolMessages(ctx.fake.requestsFor('[approve-once]')[1])[0]).toContain('downloads');
  });

  it('asks again for the next call of the same tool when the first was approved with proceed_once', async () => {
    ctx.fake.scenario('[approve-once-twice]', (_request, index) =>
      index < 2 ? { toolCalls: [{ name: 'list_directory', args: { path: index === 0 ? '.' : 'uploads' } }] } : { text: 'Listed twice.' },
    );
    const id = await ctx.api.createTask({ message: 'hello [approve-once-twice]', autoExecute: false });
    const first = await awaitApproval(id);
    await ctx.api.call('POST', `/tasks/${id}/tools/${first.callId}/approve`, { outcome: 'proceed_once' });
    const second = await awaitApproval(id);
    expect(second).toEqual({ callId: expect.any(String), toolName: 'list_directory', args: { path: 'uploads' } });
    expect(second.callId).not.toBe(first.callId);
    await ctx.api.call('DELETE', `/tasks/${id}`);
  });

  it('runs later calls of the same tool without asking when the first was approved with proceed_always', async () => {
    ctx.fake.scenario('[approve-always]', (_request, index) =>
      index < 3 ? { toolCalls: [{ name: 'list_directory', args: { path: '.' }, id: `call_always_${index}` }] } : { text: 'Listed three times.' },
    );
    const id = await ctx.api.createTask({ message: 'hello [approve-always]', autoExecute: false });
    const first = await awaitApproval(id);
    expect(first.callId).toBe('call_always_0');
    const response = await ctx.api.call('POST', `/tasks/${id}/tools/${first.callId}/approve`, { outcome: 'proceed_always' });
    expect(response.body).toEqual({ success: true, data: { approved: true } });
    const task = await ctx.api.waitForStatus(id, ['completed', 'awaiting_approval', 'failed']);
    expect(task.status).toBe('completed');
    const events = await ctx.api.stream(id, { query: '?after=0' });
    expect(ofType(events, 'tool_call').map((data) => [data.callId, data.status])).toEqual([
      ['call_always_0', 'awaiting_approval'],
      ['call_always_1', 'executing'],
      ['call_always_2', 'executing'],
    ]);
    expect(ofType(events, 'tool_result').map((data) => data.status)).toEqual(['success', 'success', 'success']);
  });

  it('still asks for a different tool when another tool was approved with proceed_always', async () => {
    ctx.fake.scenario('[approve-always-other]', (_request, index) => {
      if (index === 0) return { toolCalls: [{ name: 'list_directory', args: { path: '.' } }] };
      if (index === 1) return { toolCalls: [{ name: 'write_file', args: { path: 'downloads/a.txt', content: 'a' } }] };
      return { text: 'Done.' };
    });
    const id = await ctx.api.createTask({ message: 'hello [approve-always-other]', autoExecute: false });
    const first = await awaitApproval(id);
    await ctx.api.call('POST', `/tasks/${id}/tools/${first.callId}/approve`, { outcome: 'proceed_always' });
    const second = await awaitApproval(id);
    expect(second.toolName).toBe('write_file');
    await ctx.api.call('DELETE', `/tasks/${id}`);
  });

  it('rejects the call, tells the model the user declined and goes on when the outcome is cancel', async () => {
    const id = await ctx.api.createTask({ message: 'list files [approve-cancel]', autoExecute: false });
    const call = await awaitApproval(id);
    const response = await ctx.api.call('POST', `/tasks/${id}/tools/${call.callId}/approve`, { outcome: 'cancel' });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ success: true, data: { approved: false } });
    const task = await ctx.api.waitForStatus(id, ['completed', 'failed']);
    expect(task.status).toBe('completed');
    const events = await ctx.api.stream(id, { query: '?after=0' });
    expect(ofType(events, 'tool_result')).toEqual([expect.objectContaining({ callId: call.callId, status: 'rejected', output: expect.stringMatching(/declined/i) })]);
    // The model was asked again with a tool message saying the user declined, and answered.
    const requests = ctx.fake.requestsFor('[approve-cancel]');
    expect(requests).toHaveLength(2);
    expect(toolMessages(requests[1])).toEqual([expect.stringMatching(/user declined/i)]);
    expect(task.output?.content).toContain('you declined it');
    expect(events.at(-1)?.event).toBe('done');
  });

  it('answers 400 VALIDATION_ERROR when the outcome is not one of the three', async () => {
    const id = await ctx.api.createTask({ message: 'list files [approve-bad]', autoExecute: false });
    const call = await awaitApproval(id);
    for (const body of [{ outcome: 'yes' }, {}, { outcome: 1 }]) {
      const response = await ctx.api.call('POST', `/tasks/${id}/tools/${call.callId}/approve`, body);
      expect(response.status).toBe(400);
      expect(response.body).toEqual({ success: false, error: { code: 'VALIDATION_ERROR', message: expect.stringContaining('outcome') } });
    }
    expect((await ctx.api.getTask(id)).status).toBe('awaiting_approval');
    await ctx.api.call('DELETE', `/tasks/${id}`);
  });

  it('answers 404 NOT_FOUND when the callId is unknown or already decided', async () => {
    const id = await ctx.api.createTask({ message: 'list files [approve-unknown]', autoExecute: false });
    const call = await awaitApproval(id);
    const unknown = await ctx.api.call('POST', `/tasks/${id}/tools/call_does_not_exist/approve`, { outcome: 'proceed_once' });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({ success: false, error: { code: 'NOT_FOUND', message: expect.stringContaining('call_does_not_exist') } });
    await ctx.api.call('POST', `/tasks/${id}/tools/${call.callId}/approve`, { outcome: 'proceed_once' });
    await ctx.api.waitForStatus(id, 'completed');
    const again = await ctx.api.call('POST', `/tasks/${id}/tools/${call.callId}/approve`, { outcome: 'proceed_once' });
    expect(again.status).toBe(404);
    expect(again.body.error.code).toBe('NOT_FOUND');
  });

  it('accepts exactly one decision when two approvals for the same call race', async () => {
    const id = await ctx.api.createTask({ message: 'list files [approve-race]', autoExecute: false });
    const call = await awaitApproval(id);
    const answers = await Promise.all([
      ctx.api.call('POST', `/tasks/${id}/tools/${call.callId}/approve`, { outcome: 'proceed_once' }),
      ctx.api.call('POST', `/tasks/${id}/tools/${call.callId}/approve`, { outcome: 'cancel' }),
    ]);
    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 404]);
    await ctx.api.waitForStatus(id, 'completed');
    const events = await ctx.api.stream(id, { query: '?after=0' });
    expect(events.filter((event) => event.event === 'tool_result')).toHaveLength(1);
  });

  it('answers 404 NOT_FOUND when the task is unknown', async () => {
    const response = await ctx.api.call('POST', '/tasks/00000000-0000-4000-8000-000000000000/tools/call_x/approve', { outcome: 'proceed_once' });
    expect(response.status).toBe(404);
    expect(response.body.error.code).toBe('NOT_FOUND');
  });
});

describe('project toolPolicies (projects apply)', () => {
  let policed: ApiClient;

  beforeAll(async () => {
    const file = path.join(ctx.server.dataDir, 'projects.json');
    await fs.writeFile(
      file,
      JSON.stringify({
        projects: {
          policed: { toolPolicies: { list_directory: 'allow', write_file: 'ask', run_shell_command: 'deny' } },
        },
      }),
    );
    const applied = await ctx.server.cli(['projects', 'apply', file, '--json']);
    expect(applied.code).toBe(0);
    expect(JSON.parse(applied.stdout)).toEqual({ projects: ['policed'] });
    policed = createApiClient(ctx.server.url, (await ctx.server.createApiKey('policed')).key);
  });

  it('runs the tool without asking when its policy is allow', async () => {
    const id = await policed.createTask({ message: 'list files [policy-allow]' });
    const task = await policed.waitForStatus(id, ['completed', 'awaiting_approval', 'failed']);
    expect(task.status).toBe('completed');
    expect(task.output?.toolCalls?.[0]).toMatchObject({ toolName: 'list_directory', status: 'success' });
  });

  it('waits for approval even with autoExecute=true when the policy is ask', async () => {
    const id = await policed.createTask({ message: 'write a report [policy-ask]', autoExecute: true });
    const pending = await awaitApproval(id, policed);
    expect(pending).toEqual({ callId: expect.any(String), toolName: 'write_file', args: expect.objectContaining({ path: 'downloads/report.md' }) });
    const approved = await policed.call('POST', `/tasks/${id}/tools/${pending.callId}/approve`, { outcome: 'proceed_once' });
    expect(approved.body.data).toEqual({ approved: true });
    const done = await policed.waitForStatus(id, 'completed');
    expect(done.output?.toolCalls?.[0]).toMatchObject({ toolName: 'write_file', status: 'success' });
  });

  it('refuses the call without asking, tells the model, and goes on when the policy is deny', async () => {
    const id = await policed.createTask({ message: 'run `id` [policy-deny]', autoExecute: false });
    const task = await policed.waitForStatus(id, ['completed', 'awaiting_approval', 'failed']);
    expect(task.status).toBe('completed');
    const events = await policed.stream(id, { query: '?after=0' });
    expect(ofType(events, 'tool_call').map((data) => data.status)).toEqual(['rejected']);
    expect(ofType(events, 'tool_result')).toEqual([expect.objectContaining({ toolName: 'run_shell_command', status: 'rejected', output: expect.stringMatching(/policy/i) })]);
    expect(toolMessages(ctx.fake.requestsFor('[policy-deny]')[1])).toEqual([expect.stringMatching(/policy denies the tool/i)]);
    expect(ctx.fake.requestsFor('[policy-deny]')).toHaveLength(2);
    expect(events.at(-1)?.event).toBe('done');
  });

  it('asks for an allow-listed tool when the task has autoExecute=false', async () => {
    const id = await policed.createTask({ message: 'list files [policy-allow-manual]', autoExecute: false });
    expect((await awaitApproval(id, policed)).toolName).toBe('list_directory');
    await policed.call('DELETE', `/tasks/${id}`);
  });
});
