import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeReplyFromPrompt } from '../../server/src/testing/fake-openai-server.ts';
import { createGate, type FakeModel, startFakeModel } from '../support/fake-model.ts';
import { type SpawnedConcierge, spawnConcierge } from '../support/spawn-concierge.ts';

let fake: FakeModel;
let server: SpawnedConcierge;
let BASE_URL: string;
let API_KEY: string;

beforeAll(async () => {
  fake = await startFakeModel();
  server = await spawnConcierge({ llmBaseUrl: fake.url });
  BASE_URL = server.url;
  API_KEY = (await server.createApiKey()).key;
});

afterAll(async () => {
  await server?.stop();
  await fake?.close();
});

interface ParsedEvent {
  eventType: string;
  data: any;
}

// --- The Sigmic docs' Node 18 client, kept as close to the published example as TypeScript allows. ---

async function createTask(message: string, autoExecute = 'true'): Promise<string> {
  const formData = new FormData();
  formData.append('message', message);
  formData.append('autoExecute', autoExecute);
  const response = await fetch(`${BASE_URL}/api/v1/tasks`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${API_KEY}` },
    body: formData,
  });
  const result = (await response.json()) as { success: boolean; data: { id: string } };
  if (!result.success) throw new Error('Failed to create task');
  return result.data.id;
}

/** Reads the stream exactly as the docs do: split on blank lines, line 0 is `event: X`, line 1 is `data: {json}`. */
async function streamTask(taskId: string, onEvent: (event: ParsedEvent) => void): Promise<string | undefined> {
  const response = await fetch(`${BASE_URL}/api/v1/tasks/${taskId}/stream`, {
    headers: { Authorization: `Bearer ${API_KEY}` },
  });
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let finalResponse: string | undefined;
  while (true) {
    const { done, value } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    const events = buffer.split('\n\n');
    buffer = events.pop()!;
    for (const event of events) {
      if (!event.trim() || event.startsWith(':')) continue;
      const lines = event.split('\n');
      const eventType = lines[0]!.replace('event: ', '');
      const data = JSON.parse(lines[1]!.replace('data: ', ''));
      onEvent({ eventType, data });
      if (eventType === 'done') finalResponse = data.finalResponse;
    }
  }
  return finalResponse;
}

// --- end of the docs' client ---

describe('the Sigmic docs Node client', () => {
  it('gets the streamed text and the final response when it follows a new task', async () => {
    // The model waits until the client is subscribed, so everything after history_done arrives live.
    const subscribed = createGate();
    fake.scenario('[docs-live]', async (request, index) => {
      if (index === 0) await subscribed.promise;
      return fakeReplyFromPrompt(request);
    });
    const events: ParsedEvent[] = [];
    const taskId = await createTask('list files [docs-live]');
    const finalResponse = await streamTask(taskId, (event) => {
      events.push(event);
      if (event.eventType === 'history_done') subscribed.open();
    });
    const types = events.map((event) => event.eventType);
    expect(types[0]).toBe('history_message');
    expect(types).toContain('history_done');
    expect(types.at(-1)).toBe('done');
    expect(new Set(types)).toEqual(new Set(['history_message', 'history_done', 'thought', 'content', 'tool_call', 'tool_result', 'done']));
    expect(events.filter((event) => event.eventType === 'content').map((event) => event.data.text).join('')).toContain('Let me look at the files');
    expect(finalResponse).toContain('Here is what is in your workspace');
    const toolCall = events.find((event) => event.eventType === 'tool_call');
    expect(toolCall?.data).toMatchObject({ toolName: 'list_directory', status: 'executing', args: { path: '.' } });
    expect(events.find((event) => event.eventType === 'tool_result')?.data).toMatchObject({ callId: toolCall?.data.callId, status: 'success' });
  });

  it('gets the whole conversation as history_message events when it reconnects after a follow-up', async () => {
    const taskId = await createTask('list files');
    await streamTask(taskId, () => {});
    const followUp = await fetch(`${BASE_URL}/api/v1/tasks/${taskId}/messages`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${API_KEY}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ message: 'now write a report' }),
    });
    expect(((await followUp.json()) as { data: { status: string } }).data.status).toBe('running');
    const events: ParsedEvent[] = [];
    const finalResponse = await streamTask(taskId, (event) => events.push(event));
    // The follow-up may finish before the stream connects; then the whole conversation is history.
    const conversation = events.filter((event) => event.eventType === 'history_message').map((event) => event.data);
    const lastAnswer = finalResponse ?? conversation.at(-1)?.content;
    expect(conversation.slice(0, 3).map((message) => message.role)).toEqual(['user', 'assistant', 'user']);
    expect(conversation[0].content).toBe('list files');
    expect(conversation[1].toolCalls[0]).toMatchObject({ toolName: 'list_directory', status: 'success', output: expect.any(String) });
    expect(conversation[2].content).toBe('now write a report');
    expect(lastAnswer).toContain('downloads/report.md');
    const done = events.find((event) => event.eventType === 'history_done');
    expect(done?.data.messageCount).toBe(conversation.length);
  });

  it('sees the awaiting_approval tool call and the rest after approval when autoExecute is "false"', async () => {
    const taskId = await createTask('write a report', 'false');
    const first: ParsedEvent[] = [];
    const reader = streamTask(taskId, (event) => first.push(event));
    // The stream stays open while the task waits; poll the task like the docs' polling client would.
    let callId: string | undefined;
    for (let attempt = 0; attempt < 200 && !callId; attempt++) {
      const task = (await (await fetch(`${BASE_URL}/api/v1/tasks/${taskId}`, { headers: { Authorization: `Bearer ${API_KEY}` } })).json()) as {
        data: { pendingApprovals?: Array<{ callId: string }> };
      };
      callId = task.data.pendingApprovals?.[0]?.callId;
      if (!callId) await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(callId).toBeDefined();
    await fetch(`${BASE_URL}/api/v1/tasks/${taskId}/tools/${callId}/approve`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${API_KEY}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ outcome: 'proceed_once' }),
    });
    const finalResponse = await reader;
    expect(finalResponse).toContain('downloads/report.md');
    const toolStatuses = first.filter((event) => event.eventType === 'tool_call' || event.eventType === 'tool_result').map((event) => `${event.eventType}:${event.data.status}`);
    const awaiting = first.some((event) => event.eventType === 'history_message' && event.data.toolCalls?.[0]?.status === 'awaiting_approval');
    // Either the stream saw the announcement live, or it was already in the replayed history.
    expect(awaiting || toolStatuses[0] === 'tool_call:awaiting_approval').toBe(true);
    expect(toolStatuses.slice(-2)).toEqual(['tool_call:awaiting_approval', 'tool_result:success']);
  });
});
