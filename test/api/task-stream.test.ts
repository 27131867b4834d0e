import { describe, expect, it } from 'vitest';
import { liveEvents, type StreamedEvent, streamedText } from '../support/api-client.ts';
import { createGate, } from '../support/fake-model.ts';
import { waitFor } from '../support/wait-for.ts';
import { useApiServer } from '../support/use-api-server.ts';

const ctx = useApiServer();

const WORDS = Array.from({ length: 12 }, (_, index) => `word${index} `);

/** A reply held until `gate.open()`, then streamed as 12 chunks. */
function heldReply(marker: string) {
  const gate = createGate();
  ctx.fake.scenario(marker, async () => {
    await gate.promise;
    return { reasoning: 'Counting words.', text: WORDS };
  });
  return gate;
}

/** The raw SSE text of a stream, read until the server closes it. */
async function rawStream(id: string, query = ''): Promise<string> {
  const response = await fetch(ctx.api.api(`/tasks/${id}/stream${query}`), { headers: ctx.api.auth });
  expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
  return response.text();
}

const ids = (events: StreamedEvent[]) => events.filter((event) => event.id !== undefined).map((event) => Number(event.id));

describe('GET /api/v1/tasks/{id}/stream', () => {
  it('replays history_message events then history_done and closes when the task is finished', async () => {
    ctx.fake.scenario('[replay]', () => ({ reasoning: 'Easy.', text: 'Four.' }));
    const id = await ctx.api.createTask({ message: 'what is 2+2 [replay]' });
    await ctx.api.waitForStatus(id, 'completed');
    const events = await ctx.api.stream(id);
    expect(events).toEqual([
      { event: 'history_message', data: { id: 'msg-1', role: 'user', content: 'what is 2+2 [replay]', createdAt: expect.any(String) }, id: expect.stringMatching(/^\d+$/) },
      {
        event: 'history_message',
        data: { id: 'msg-2', role: 'assistant', content: 'Four.', createdAt: expect.any(String), thoughts: [{ subject: 'Thinking', description: 'Easy.' }] },
        id: expect.stringMatching(/^\d+$/),
      },
      { event: 'history_done', data: { messageCount: 2, isStreaming: false }, id: expect.any(String) },
    ]);
    // The last message covers the whole log, so it and history_done carry the same resume point.
    expect(events[1]?.id).toBe(events[2]?.id);
    expect(Number(events[0]?.id)).toBeLessThan(Number(events[1]?.id));
  });

  it('sends live status, thought, content and done events after history_done when the task is running', async () => {
    const gate = heldReply('[live]');
    const id = await ctx.api.createTask({ message: 'count [live]' });
    const events = await ctx.api.stream(id, {
      until: (event) => {
        if (event.event === 'history_done') gate.open();
        return false;
      },
    });
    const historyDone = events.findIndex((event) => event.event === 'history_done');
    expect(events[historyDone]?.data).toEqual({ messageCount: 1, isStreaming: true });
    const live = events.slice(historyDone + 1);
    // The model's deltas that arrive together are sent as one content event (group commit), so the
    // partial events may be fewer than the chunks; what they carry is the whole text, in order.
    const names = live.map((event) => event.event);
    expect(names[0]).toBe('thought');
    expect(names.slice(1, -1).every((name) => name === 'content')).toBe(true);
    expect(names.length).toBeGreaterThanOrEqual(4);
    expect(names.at(-1)).toBe('done');
    expect(streamedText(live)).toBe(WORDS.join(''));
    expect(live.at(-2)?.data).toEqual({ text: WORDS.join(''), isPartial: false });
    expect(live.at(-1)?.data).toEqual({ finalResponse: WORDS.join('') });
    // Every live event carries its sequence number, strictly increasing.
    const seqs = ids(live);
    expect(seqs).toHaveLength(live.length);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
  });

  it('frames each event as event line, single data line, then id line last when read raw', async () => {
    const id = await ctx.api.createTask({ message: 'hello [raw]' });
    await ctx.api.waitForStatus(id, 'completed');
    for (const text of [await rawStream(id), await rawStream(id, '?after=0')]) {
      const blocks = text.split('\n\n').filter((block) => block !== '');
      expect(blocks.length).toBeGreaterThan(2);
      for (const block of blocks) {
        const lines = block.split('\n');
        expect(lines[0]).toMatch(/^event: [a-z_]+$/);
        expect(lines[1]).toMatch(/^data: \{.*\}$/);
        expect(() => JSON.parse(lines[1]!.slice('data: '.length))).not.toThrow();
        expect(lines).toHaveLength(3);
        expect(lines[2]).toMatch(/^id: \d+$/);
      }
    }
    // Live events (as replayed with ?after=0) always carry an id.
    const replayed = (await rawStream(id, '?after=0')).split('\n\n').filter((block) => block.startsWith('event: content') || block.startsWith('event: done'));
    expect(replayed.length).toBeGreaterThan(0);
    for (const block of replayed) expect(block.split('\n')).toHaveLength(3);
  });

  it('resumes after the given event without duplicates when reconnecting with Last-Event-ID', async () => {
    ctx.fake.scenario('[resume-header]', () => ({ text: WORDS, delayMs: 30 }));
    const id = await ctx.api.createTask({ message: 'count [resume-header]' });
    let contents = 0;
    const before = await ctx.api.stream(id, { until: (event) => event.event === 'content' && ++contents === 3 });
    const lastId = before.at(-1)?.id;
    expect(lastId).toMatch(/^\d+$/);
    const after = await ctx.api.stream(id, { headers: { 'Last-Event-ID': lastId! } });
    // Resumed: only the missed events, no history and no history_done before them.
    expect(after.filter((event) => event.event === 'history_message' || event.event === 'history_done')).toEqual([]);
    const resumed = liveEvents(after);
    expect(Math.min(...ids(resumed))).toBe(Number(lastId) + 1);
    // Before + after is exactly the task's event log from the first event the first connection saw live.
    const full = liveEvents(await ctx.api.stream(id, { query: '?after=0' }));
    const firstSeen = Number(liveEvents(before)[0]?.id);
    expect([...liveEvents(before), ...resumed]).toEqual(full.filter((event) => Number(event.id) >= firstSeen));
    expect(streamedText([...before, ...resumed])).toBe(WORDS.join(''));
  });

  it('resumes after the given event without duplicates when reconnecting with ?after=', async () => {
    ctx.fake.scenario('[resume-query]', () => ({ text: WORDS, delayMs: 30 }));
    const id = await ctx.api.createTask({ message: 'count [resume-query]' });
    let contents = 0;
    const before = await ctx.api.stream(id, { until: (event) => event.event === 'content' && ++contents === 5 });
    const after = await ctx.api.stream(id, { query: `?after=${before.at(-1)?.id}` });
    const full = liveEvents(await ctx.api.stream(id, { query: '?after=0' }));
    const firstSeen = Number(liveEvents(before)[0]?.id);
    expect([...liveEvents(before), ...liveEvents(after)]).toEqual(full.filter((event) => Number(event.id) >= firstSeen));
    expect(full.at(-1)?.event).toBe('done');
  });

  it('replays only the events after the point when resuming a finished task', async () => {
    const id = await ctx.api.createTask({ message: 'hello [resume-finished]' });
    await ctx.api.waitForStatus(id, 'completed');
    const full = liveEvents(await ctx.api.stream(id, { query: '?after=0' }));
    const cut = Number(full[2]?.id);
    const tail = await ctx.api.stream(id, { headers: { 'Last-Event-ID': String(cut) } });
    expect(tail).toEqual(full.filter((event) => Number(event.id) > cut));
    expect(tail.at(-1)?.event).toBe('done');
  });

  it('sends identical events to every subscriber when several watch one task', async () => {
    const gate = heldReply('[subscribers]');
    const id = await ctx.api.createTask({ message: 'count [subscribers]' });
    let ready = 0;
    const streams = Array.from({ length: 4 }, () =>
      ctx.api.stream(id, {
        until: (event) => {
          if (event.event === 'history_done' && ++ready === 4) gate.open();
          return false;
        },
      }),
    );
    const results = await Promise.all(streams);
    for (const events of results) {
      expect(events).toEqual(results[0]);
      expect(events.at(-1)?.event).toBe('done');
    }
    expect(streamedText(results[0]!)).toBe(WORDS.join(''));
  });

  it('keeps the task running to completion when the only subscriber disconnects', async () => {
    ctx.fake.scenario('[disconnect]', () => ({ text: WORDS, delayMs: 30 }));
    const id = await ctx.api.createTask({ message: 'count [disconnect]' });
    const early = await ctx.api.stream(id, { until: (event) => event.event === 'content' });
    expect(early.at(-1)?.event).toBe('content');
    const task = await ctx.api.waitForStatus(id, ['completed', 'failed', 'cancelled']);
    expect(task.status).toBe('completed');
    expect(task.output?.content).toBe(WORDS.join(''));
  });

  it('ends the stream with an error event when the task fails', async () => {
    ctx.fake.scenario('[stream-fail]', () => ({ error: { status: 503, message: 'overloaded' } }));
    const id = await ctx.api.createTask({ message: 'hello [stream-fail]' });
    const events = await ctx.api.stream(id);
    // The provider's own words stay in the log; the visitor gets the human message (test/api/model-errors.test.ts).
    expect(events.at(-1)).toMatchObject({ event: 'error', data: { code: 'MODEL_UNAVAILABLE', message: expect.stringContaining('The AI model is unavailable') } });
  });

  it('sends the events in between to a subscriber that connects mid-task', async () => {
    ctx.fake.scenario('[mid-task]', () => ({ text: WORDS, delayMs: 40 }));
    const id = await ctx.api.createTask({ message: 'count [mid-task]' });
    await waitFor('some content', async () => (await ctx.api.getTask(id)).output?.content);
    const events = await ctx.api.stream(id);
    const historyDone = events.find((event) => event.event === 'history_done');
    expect(historyDone?.data).toEqual({ messageCount: 2, isStreaming: true });
    // The replayed partial assistant message plus the live rest add up to the whole answer.
    const partial = events.find((event) => event.event === 'history_message' && (event.data as { role: string }).role === 'assistant');
    const replayedText = (partial?.data as { content: string } | undefined)?.content ?? '';
    expect(replayedText + streamedText(events)).toBe(WORDS.join(''));
    expect(events.at(-1)).toEqual({ event: 'done', data: { finalResponse: WORDS.join('') }, id: expect.any(String) });
  });

  it('sends a :heartbeat comment after 15 s when the stream is idle', async () => {
    const id = await ctx.api.createTask({ message: 'list files [heartbeat]', autoExecute: false });
    await ctx.api.waitForStatus(id, 'awaiting_approval');
    const controller = new AbortController();
    const response = await fetch(ctx.api.api(`/tasks/${id}/stream`), { headers: ctx.api.auth, signal: controller.signal });
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    const opened = Date.now();
    let text = '';
    let heartbeatAfterMs: number | undefined;
    while (heartbeatAfterMs === undefined && Date.now() - opened < 20_000) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      if (text.includes(':heartbeat\n\n')) heartbeatAfterMs = Date.now() - opened;
    }
    controller.abort();
    expect(heartbeatAfterMs).toBeGreaterThanOrEqual(14_000);
    expect(heartbeatAfterMs).toBeLessThan(18_000);
    // The heartbeat is its own block starting with ':', which line-based clients skip.
    const blocks = text.split('\n\n').filter(Boolean);
    expect(blocks.at(-1)).toBe(':heartbeat');
    expect(blocks.slice(0, -1).every((block) => block.startsWith('event: '))).toBe(true);
    await ctx.api.call('DELETE', `/tasks/${id}`);
  }, 30_000);
});
