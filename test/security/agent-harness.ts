
import { expect } from 'vitest';
import type { Task, TaskStatus } from '../../shared/src/index.ts';
import { type ApiClient, type StreamedEvent, request } from '../support/api-client.ts';
import { type FakeChatRequest, type FakeModel, type FakeReply, messageText } from '../support/fake-model.ts';
import { hostProcessesMatching } from '../../server/src/testing/host-processes.ts';

/** One tool call the fake model makes, in order, one per model step. */
export interface ToolStep {
  name: 'run_shell_command' | 'read_file' | 'write_file' | 'list_directory' | `${string}__${string}`;
  args: Record<string, unknown>;
}

/** A `tool_result` event as streamed. */
export interface ToolResultData {
  callId: string;
  toolName?: string;
  status: string;
  output: string;
}

/** What one scripted agent task did: its final state, every live event and its tool results in order. */
export interface ToolRun {
  taskId: string;
  /** Routes the task's model requests; `fake.requestsFor(marker)` gives what the model received. */
  marker: string;
  task: Task;
  events: StreamedEvent[];
  results: ToolResultData[];
}

export const FINAL_TEXT = 'All steps are done.';
let counter = 0;

/** The messages after the latest user message: the model's progress in the current turn. */
function currentTurn(request: FakeChatRequest): FakeChatRequest['messages'] {
  const lastUser = request.messages.map((message) => message.role).lastIndexOf('user');
  return request.messages.slice(lastUser + 1);
}

/** Replies with `steps[n]` as the n-th tool call of the turn, then with `finalText`. */
export function scriptedReply(steps: ToolStep[], finalText: string | ((request: FakeChatRequest) => string) = FINAL_TEXT) {
  return (request: FakeChatRequest): FakeReply => {
    const done = currentTurn(request).filter((message) => message.role === 'tool').length;
    const step = steps[done];
    if (step) return { toolCalls: [{ name: step.name, args: step.args }] };
    return { text: typeof finalText === 'string' ? finalText : finalText(request) };
  };
}

/** A fresh marker that routes a task's model requests to its scenario. */
export function newMarker(name: string): string {
  counter += 1;
  return `[sec-${name}-${counter}-${Date.now().toString(36)}]`;
}

/** Every live event of a finished task, replayed from the start of its log. */
export async function replayEvents(api: ApiClient, taskId: string): Promise<StreamedEvent[]> {
  return api.stream(taskId, { query: '?after=0', timeoutMs: 20_000 });
}

/** Creates a task whose fake model runs `steps` through the real agent loop; waits until it ends. */
export async function runToolTask(
  api: ApiClient,
  fake: FakeModel,
  name: string,
  steps: ToolStep[],
  options: { body?: Record<string, unknown>; headers?: Record<string, string>; wait?: TaskStatus[]; timeoutMs?: number; finalText?: string } = {},
): Promise<ToolRun> {
  const marker = newMarker(name);
  fake.scenario(marker, scriptedReply(steps, options.finalText));
  const created = await api.call('POST', '/tasks', { message: `Please run the steps ${marker}`, ...options.body }, options.headers);
  if (created.status !== 200) throw new Error(`POST /tasks answered ${created.status}: ${JSON.stringify(created.body)}`);
  const taskId = created.body.data.id as string;
  const task = await api.waitForStatus(taskId, options.wait ?? ['completed', 'failed', 'cancelled'], options.timeoutMs ?? 30_000);
  const events = await replayEvents(api, taskId);
  const results = events.filter((event) => event.event === 'tool_result').map((event) => event.data as ToolResultData);
  return { taskId, marker, task, events, results };
}

/** The tool results the model was sent back, oldest first, as the last model request of the task carries them. */
export function toolResultsSentToModel(fake: FakeModel, marker: string): string[] {
  const last = fake.requestsFor(marker).at(-1);
  return (last?.messages ?? []).filter((message) => message.role === 'tool').map((message) => messageText(message));
}

/** The tool output text for a shell command, as `formatShellResult` writes it. */
export function shellOutput(exitCode: number | string, stdout: string, stderr = '', extra: { limit?: string; truncatedAt?: number } = {}): string {
  const lines = [`Exit code: ${exitCode}`];
  if (extra.limit) lines.push(extra.limit);
  lines.push('--- stdout ---', stdout, '--- stderr ---', stderr);
  if (extra.truncatedAt !== undefined) lines.push(`(output truncated to the first ${extra.truncatedAt} bytes of each stream)`);
  return lines.join('\n');
}

/** Proves the server still serves: `/healthz` answers ok and a fresh task runs a command and completes. */
export async function expectServerStillWorks(baseUrl: string, api: ApiClient, fake: FakeModel): Promise<void> {
  const health = await request(`${baseUrl}/healthz`);
  expect(health.status).toBe(200);
  expect(health.body.status).toBe('ok');
  const run = await runToolTask(api, fake, 'alive', [{ name: 'run_shell_command', args: { command: 'echo alive' } }], { finalText: 'Still here.' });
  expect(run.task.status).toBe('completed');
  expect(run.task.output?.content).toBe('Still here.');
  expect(run.results).toEqual([expect.objectContaining({ toolName: 'run_shell_command', status: 'success', output: shellOutput(0, 'alive') })]);
}

export { hostProcessesMatching };
