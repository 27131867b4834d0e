import { describe, expect, it } from 'vitest';
import { foldTaskEvent, type Message } from '../../shared/src/index.ts';
import { fakeReplyFromPrompt } from '../../server/src/testing/fake-openai-server.ts';
import { createGate } from '../support/fake-model.ts';
import { useApiServer } from '../support/use-api-server.ts';
import { createWhatwgSseParser } from '../support/whatwg-sse-parser.ts';

// The resume rule (docs/api.md "Resume"), read by two kinds of client: the Sigmic docs' parser
// (split on blank lines, line 0 `event:`, line 1 `data:`) and a WHATWG-conformant parser as an
// EventSource has (Last-Event-ID from the `id:` lines). Both stop where the rule says the stream
// ends: after a terminal event, or at `history_done` with `isStreaming: false`.

const ctx = useApiServer();
const STREAM_TIMEOUT_MS = 20_000;

interface ReadEvent {
  event: string;
  data: any;
  /** The `id:` of this event (WHATWG: the last event ID buffer when it was dispatched). */
  id: string | undefined;
}

const isTerminal = (event: ReadEvent) => event.event === 'done' || event.event === 'error' || (event.event === 'status' && event.data.status === 'cancelled');
/** Sigmic's phases: after history_done with isStreaming false, nothing more comes. */
const isEnd = (event: ReadEvent) => isTerminal(event) || (event.event === 'history_done' && event.data.isStreaming === false);

type OnEvent = (event: ReadEvent) => void | Promise<void>;

async function openStream(taskId: string, options: { query?: string; lastEventId?: string }) {
  const headers: Record<string, string> = { ...ctx.api.auth };
  if (options.lastEventId) headers['Last-Event-ID'] = options.lastEventId;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`stream of ${taskId} did not end within ${STREAM_TIMEOUT_MS} ms`)), STREAM_TIMEOUT_MS);
  const response = await fetch(`${ctx.server.url}/api/v1/tasks/${taskId}/stream${options.query ?? ''}`, { headers, signal: controller.signal });
  return { response, controller, done: () => clearTimeout(timer) };
}

/** The Sigmic docs' Node client loop, plus the phase rule: stops at the end the docs describe. */
async function readLikeSigmicDocs(taskId: string, onEvent: OnEvent = () => {}, query = ''): Promise<{ events: ReadEvent[]; raw: string }> {
  const { response, controller, done } = await openStream(taskId, { query });
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let raw = '';
  const events: ReadEvent[] = [];
  try {
    while (true) {
      const { done: finished, value } = await reader.read();
      if (finished) break;
      const text = decoder.decode(value, { stream: true });
      raw += text;
      buffer += text;
      const blocks = buffer.split('\n\n');
      buffer = blocks.pop()!;
      for (const block of blocks) {
        if (!block.trim() || block.startsWith(':')) continue;
        const lines = block.split('\n');
        const event: ReadEvent = {
          event: lines[0]!.replace('event: ', ''),
          data: JSON.parse(lines[1]!.replace('data: ', '')),
          id: lines.find((line) => line.startsWith('id: '))?.slice(4),
        };
        events.push(event);
        await onEvent(event);
        if (isEnd(event)) {
          controller.abort();
          return { events, raw };
        }
      }
    }
  } finally {
    done();
  }
  return { events, raw };
}

/** An EventSource-like client: WHATWG parsing, `Last-Event-ID` on (re)connect, closes at the end. */
async function readLikeEventSource(taskId: string, options: { lastEventId?: string; onEvent?: OnEvent } = {}): Promise<{ events: ReadEvent[]; raw: string }> {
  const { response, controller, done } = await openStream(taskId, options.lastEventId ? { lastEventId: options.lastEventId } : {});
  const events: ReadEvent[] = [];
  const queue: ReadEvent[] = [];
  const parser = createWhatwgSseParser((message) => {
    queue.push({ event: message.type, data: JSON.parse(message.data), id: message.lastEventId || undefined });
  });
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let raw = '';
  try {
    while (true) {
      const { done: finished, value } = await reader.read();
      if (finished) break;
      raw += value;
      parser.feed(value);
      for (const event of queue.splice(0)) {
        events.push(event);
        await options.onEvent?.(event);
        if (isEnd(event)) {
          controller.abort();
          return { events, raw };
        }
      }
    }
  } finally {
    done();
  }
  return { events, raw };
}

const lastId = (events: ReadEvent[]) => events.filter((event) => event.id !== undefined).at(-1)?.id;

async function followUp(taskId: string, message: string) {
  const response = await ctx.api.call('POST', `/tasks/${taskId}/messages`, { message });
  expect(response.status).toBe(200);
}

async function history(taskId: string): Promise<Message[]> {
  return (await ctx.api.call('GET', `/tasks/${taskId}/history`)).body.data.messages;
}

const withoutTimes = (messages: readonly Message[]) => messages.map(({ createdAt: _createdAt, ...rest }) => rest);

describe('stream resume after a follow-up that completed before the stream reconnected', () => {
  it('gives the Sigmic docs parser the reply after ?after=N, with no history_done before it', async () => {
    const id = await ctx.api.createTask({ message: 'list files [resume-docs]' });
    const first = await readLikeSigmicDocs(id);
    expect(first.events.at(-1)?.event).toBe('done');
    await followUp(id, 'say hello [resume-docs]');
    await ctx.api.waitForStatus(id, 'completed');
    const resumed = await readLikeSigmicDocs(id, () => {}, `?after=${lastId(first.events)}`);
    const types = resumed.events.map((event) => event.event);
    expect(types).not.toContain('history_done');
    expect(types).not.toContain('history_message');
    expect(types[0]).toBe('user_message');
    expect(resumed.events[0]?.data.content).toBe('say hello [resume-docs]');
    expect(types.at(-1)).toBe('done');
    expect(resumed.events.at(-1)?.data.finalResponse).toBe((await history(id)).at(-1)?.content);
  });

  it('gives an EventSource the reply after Last-Event-ID, and the same conversation as history', async () => {
    const id = await ctx.api.createTask({ message: 'list files [resume-whatwg]' });
    const first = await readLikeEventSource(id);
    expect(first.events.at(-1)?.event).toBe('done');
    await followUp(id, 'say hello [resume-whatwg]');
    await ctx.api.waitForStatus(id, 'completed');
    const resumed = await readLikeEventSource(id, { lastEventId: lastId(first.events) });
    expect(resumed.events.map((event) => event.event)).not.toContain('history_done');
    expect(resumed.events.at(-1)?.event).toBe('done');
    // What the client folded from both connections is what history says.
    let messages: readonly Message[] = [];
    for (const event of [...first.events, ...resumed.events]) messages = foldTaskEvent(messages, event as never);
    expect(withoutTimes(messages)).toEqual(withoutTimes(await history(id)));
  });

  it('tells a client that resumes after the last turn ended that nothing more will come', async () => {
    const id = await ctx.api.createTask({ message: 'say hello [resume-idle]' });
    const first = await readLikeEventSource(id);
    const resumed = await readLikeEventSource(id, { lastEventId: lastId(first.events) });
    expect(resumed.events).toEqual([{ event: 'history_done', data: { messageCount: 2, isStreaming: false }, id: lastId(first.events) }]);
  });

  for (const [name, read] of [
    ['the Sigmic docs parser', readLikeSigmicDocs],
    ['an EventSource', (id: string, onEvent: OnEvent) => readLikeEventSource(id, { onEvent })],
  ] as const) {
    it(`replays a turn still running as history, then streams it live to its end (${name})`, async () => {
      const marker = `[running-${name}]`;
      const release = createGate();
      ctx.fake.scenario(marker, async (request, index) => {
        if (index === 0) await release.promise;
        return fakeReplyFromPrompt(request);
      });
      const id = await ctx.api.createTask({ message: `list files ${marker}` });
      const { events } = await read(id, (event) => {
        if (event.event === 'history_done') release.open();
      });
      expect(events.find((event) => event.event === 'history_done')?.data).toEqual({ messageCount: 1, isStreaming: true });
      expect(events.at(-1)?.event).toBe('done');
    });
  }
});

describe('a late joiner on a task awaiting approval', () => {
  for (const [name, read] of [
    ['the Sigmic docs parser', (id: string, onEvent: OnEvent) => readLikeSigmicDocs(id, onEvent)],
    ['an EventSource', (id: string, onEvent: OnEvent) => readLikeEventSource(id, { onEvent })],
  ] as const) {
    it(`approves from the live tool_call it gets in the catch-up (${name})`, async () => {
      const id = await ctx.api.createTask({ message: `list files [late-${name}]`, autoExecute: false });
      const waiting = await ctx.api.waitForStatus(id, 'awaiting_approval');
      const pending = waiting.pendingApprovals![0]!;
      const approvals: number[] = [];
      const { events } = await read(id, async (event) => {
        if (event.event === 'tool_call' && event.data.status === 'awaiting_approval') {
          approvals.push((await ctx.api.call('POST', `/tasks/${id}/tools/${event.data.callId}/approve`, { outcome: 'proceed_once' })).status);
        }
      });
      const types = events.map((event) => event.event);
      const historyDone = types.indexOf('history_done');
      expect(events[historyDone]?.data).toEqual({ messageCount: 2, isStreaming: true });
      expect(events[historyDone + 1]).toMatchObject({ event: 'tool_call', data: { ...pending, status: 'awaiting_approval' } });
      expect(approvals).toEqual([200]);
      expect(events.filter((event) => event.event === 'tool_call')).toHaveLength(1);
      expect(events.find((event) => event.event === 'tool_result')?.data).toMatchObject({ callId: pending.callId, status: 'success' });
      expect(types.at(-1)).toBe('done');
    });
  }
});

describe('event ids', () => {
  it('puts an id line last on every event, history and live, and an EventSource sees each own id', async () => {
    const id = await ctx.api.createTask({ message: 'list files [ids]' });
    const live = await readLikeSigmicDocs(id);
    await followUp(id, 'say hello [ids]');
    await ctx.api.waitForStatus(id, 'completed');
    const replay = await readLikeSigmicDocs(id);
    expect(replay.events.map((event) => event.event)).toEqual(['history_message', 'history_message', 'history_message', 'history_message', 'history_done']);
    for (const raw of [live.raw, replay.raw]) {
      const blocks = raw.split('\n\n').filter((block) => block.trim() && !block.startsWith(':'));
      expect(blocks.length).toBeGreaterThan(0);
      for (const block of blocks) {
        const lines = block.split('\n');
        expect(lines).toHaveLength(3);
        expect(lines[0]).toMatch(/^event: \w+$/);
        expect(lines[1]).toMatch(/^data: \{/);
        expect(lines[2]).toMatch(/^id: \d+$/);
      }
      // Parsed as the spec says, each event carries its own id, never one inherited from the event before.
      const parsed: { id: string }[] = [];
      const parser = createWhatwgSseParser((message) => parsed.push({ id: message.lastEventId }));
      parser.feed(raw);
      expect(parsed.map((event) => event.id)).toEqual(blocks.map((block) => block.split('\n')[2]!.slice(4)));
    }
  });

  it('lets a client cut off after any history_message resume with its id and rebuild the same history', async () => {
    const id = await ctx.api.createTask({ message: 'list files [cut]' });
    await readLikeEventSource(id);
    await followUp(id, 'say hello [cut]');
    await ctx.api.waitForStatus(id, 'completed');
    const full = await history(id);
    const { events } = await readLikeEventSource(id);
    const replayed = events.filter((event) => event.event === 'history_message');
    expect(replayed).toHaveLength(full.length);
    const ids = replayed.map((event) => Number(event.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    for (const [index, cut] of replayed.entries()) {
      const resumed = await readLikeEventSource(id, { lastEventId: cut.id });
      let messages: readonly Message[] = replayed.slice(0, index + 1).map((event) => event.data as Message);
      for (const event of resumed.events) messages = foldTaskEvent(messages, event as never);
      expect(withoutTimes(messages)).toEqual(withoutTimes(full));
    }
  });
});
