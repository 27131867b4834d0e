import type { TaskEvent } from '@concierge/shared';
import { describe, expect, it } from 'vitest';
import { buildHistory } from './build-history.ts';
import { replayTaskLog } from './replay-task-log.ts';
import type { TaskEventLog } from './task-event-log.ts';

const at = '2026-01-01T00:00:00.000Z';

/** An in-memory log that records the largest page it was asked for. */
function memoryLog(events: TaskEvent[]) {
  const reads: number[] = [];
  const log: TaskEventLog = {
    append: () => Promise.reject(new Error('read only')),
    async list(_taskId, afterSeq = 0, limit) {
      const page = events.filter((event) => event.seq > afterSeq).slice(0, limit);
      reads.push(page.length);
      return page;
    },
    listLatestTurn: () => Promise.reject(new Error('not used by replay')),
    subscribe: () => () => {},
    onDisconnect: () => () => {},
    listening: async () => {},
    distributed: false,
  };
  return { log, reads };
}

function logOf(entries: Array<[string, unknown]>): TaskEvent[] {
  return entries.map(([event, data], index) => ({ seq: index + 1, event, data, createdAt: at }) as TaskEvent);
}

async function collect(log: TaskEventLog, after: number | undefined, pageSize = 3) {
  const chunks: string[] = [];
  const catchUp = replayTaskLog(log, 't1', after, pageSize);
  for (;;) {
    const next = await catchUp.next();
    if (next.done) return { chunks, end: next.value, events: parse(chunks.join('')) };
    chunks.push(next.value);
  }
}

function parse(text: string) {
  return text
    .split('\n\n')
    .filter(Boolean)
    .map((block) => {
      const [event, data, id] = block.split('\n');
      return { event: event!.slice(7), data: JSON.parse(data!.slice(6)), id: Number(id!.slice(4)) };
    });
}

const twoTurns = logOf([
  ['user_message', { id: 'msg-1', role: 'user', content: 'one', createdAt: at }],
  ['content', { text: 'first ', isPartial: true }],
  ['content', { text: 'reply', isPartial: true }],
  ['done', { finalResponse: 'first reply' }],
  ['user_message', { id: 'msg-3', role: 'user', content: 'two', createdAt: at }],
  ['content', { text: 'second', isPartial: true }],
  ['tool_call', { callId: 'c1', toolName: 'read_file', status: 'awaiting_approval', args: { path: 'a' } }],
]);

describe('replayTaskLog', () => {
  it('sends the same messages as history, each with the last sequence it covers, in page-sized pieces', async () => {
    const { log, reads } = memoryLog(twoTurns);
    const { chunks, events, end } = await collect(log, undefined);
    const messages = events.filter((event) => event.event === 'history_message');
    expect(messages.map((event) => event.data)).toEqual(buildHistory(twoTurns).messages);
    expect(messages.map((event) => event.id)).toEqual([1, 4, 5, 7]);
    expect(Math.max(...reads)).toBeLessThanOrEqual(3);
    expect(chunks.length).toBeGreaterThan(1);
    expect(events.find((event) => event.event === 'history_done')).toEqual({ event: 'history_done', data: { messageCount: 4, isStreaming: true }, id: 7 });
    // The late joiner's pending approval, as the live event clients wait for.
    expect(events.at(-1)).toEqual({ event: 'tool_call', data: { callId: 'c1', toolName: 'read_file', status: 'awaiting_approval', args: { path: 'a' } }, id: 7 });
    expect(end).toEqual({ lastSeq: 7, ended: false });
  });

  it('sends exactly the missed events of the current turn, with no history_done', async () => {
    const { log } = memoryLog(twoTurns);
    const { events } = await collect(log, 4);
    expect(events.map((event) => [event.event, event.id])).toEqual([
      ['user_message', 5],
      ['content', 6],
      ['tool_call', 7],
    ]);
  });

  it('replays history when the missed events cross an earlier turn’s end', async () => {
    const { log } = memoryLog(twoTurns);
    const { events } = await collect(log, 2);
    expect(events.filter((event) => event.event === 'history_message')).toHaveLength(4);
  });

  it('sends the history afresh to a client whose Last-Event-ID is beyond the log', async () => {
    const { log } = memoryLog(twoTurns);
    const { events } = await collect(log, 9_999_999);
    expect(events.filter((event) => event.event === 'history_message')).toHaveLength(4);
    expect(events.find((event) => event.event === 'history_done')?.data).toEqual({ messageCount: 4, isStreaming: true });
  });

  it('says nothing more will come to a client resuming after the last turn ended', async () => {
    const { log } = memoryLog(twoTurns.slice(0, 4));
    const { events, end } = await collect(log, 4);
    expect(events).toEqual([{ event: 'history_done', data: { messageCount: 2, isStreaming: false }, id: 4 }]);
    expect(end).toEqual({ lastSeq: 4, ended: true });
  });
});
