import { encodeSseEvent, type FoldableEvent, foldTaskEvent, isLiveEventName, isTerminalEvent, type Message, type TaskEvent } from '@concierge/shared';
import type { TaskEventLog } from './task-event-log.ts';

/** Where a stream's catch-up left off: live events above `lastSeq` follow; `ended` when none will. */
export interface CatchUpEnd {
  lastSeq: number;
  ended: boolean;
}

/** Whether no more events will follow after `event` (a follow-up reopens a finished task). */
function endsAfter(ended: boolean, event: TaskEvent): boolean {
  if (event.event === 'user_message') return false;
  return isTerminalEvent(event) ? true : ended;
}

/** Reads the log from `afterSeq` up to `untilSeq` one page at a time: a replay never holds the whole log. */
async function* readPages(log: TaskEventLog, taskId: string, afterSeq: number, untilSeq: number | undefined, pageSize: number): AsyncGenerator<TaskEvent[]> {
  let cursor = afterSeq;
  for (;;) {
    const page = await log.list(taskId, cursor, pageSize);
    const within = untilSeq === undefined ? page : page.filter((event) => event.seq <= untilSeq);
    if (within.length > 0) yield within;
    const last = page.at(-1)?.seq;
    if (last === undefined || page.length < pageSize || (untilSeq !== undefined && last >= untilSeq)) return;
    cursor = last;
  }
}

// The fields that carry a message's bulk; the skeleton fold that counts messages does without them.
const BULK_FIELDS = new Set(['text', 'content', 'output', 'finalResponse', 'description', 'args', 'attachedFiles']);
function skeleton(event: TaskEvent): FoldableEvent {
  const data = Object.fromEntries(Object.entries(event.data as Record<string, unknown>).filter(([name]) => !BULK_FIELDS.has(name)));
  return { event: event.event, data, createdAt: event.createdAt } as FoldableEvent;
}

/** One pass over the whole log that keeps only counts and flags: what shape the catch-up takes. */
async function summarise(log: TaskEventLog, taskId: string, after: number, pageSize: number) {
  let lastSeq = 0;
  let ended = false;
  let messages: readonly Message[] = [];
  // A terminal event before the last missed one would make clients stop reading before the rest.
  let terminalInside = false;
  let missedTerminal = false;
  for await (const page of readPages(log, taskId, 0, undefined, pageSize)) {
    for (const event of page) {
      lastSeq = event.seq;
      ended = endsAfter(ended, event);
      messages = foldTaskEvent(messages, skeleton(event));
      if (event.seq <= after || !isLiveEventName(event.event)) continue;
      terminalInside ||= missedTerminal;
      missedTerminal = isTerminalEvent(event);
    }
  }
  return { lastSeq, ended, messageCount: messages.length, terminalInside, missedTerminal };
}

/** A stand-in for a message already sent: the fold only counts earlier messages. */
const SENT: Message = { id: '', role: 'user', content: '', createdAt: '' };

/**
 * The history phase: each message as a `history_message` as soon as the next one begins (then it is
 * let go), `history_done`, and for a late joiner each pending approval as the live `tool_call` that
 * clients wait for. Holds one page and the message being built, never the whole conversation.
 */
async function* replayHistory(log: TaskEventLog, taskId: string, untilSeq: number | undefined, pageSize: number): AsyncGenerator<string, CatchUpEnd> {
  let messages: Message[] = [];
  // Each history_message carries the last sequence it covers: a client cut off mid-history resumes after it.
  const coveredSeq: number[] = [];
  let sent = 0;
  let lastSeq = 0;
  let ended = false;
  for await (const page of readPages(log, taskId, 0, untilSeq, pageSize)) {
    let text = '';
    for (const event of page) {
      lastSeq = event.seq;
      ended = endsAfter(ended, event);
      messages = foldTaskEvent(messages, event) as Message[];
      coveredSeq[messages.length - 1] = event.seq;
      for (; sent < messages.length - 1; sent++) {
        text += encodeSseEvent('history_message', messages[sent], coveredSeq[sent]);
        messages[sent] = SENT;
      }
    }
    if (text) yield text;
  }
  const last = messages.at(-1);
  let text = last && sent < messages.length ? encodeSseEvent('history_message', last, coveredSeq[messages.length - 1]) : '';
  text += encodeSseEvent('history_done', { messageCount: messages.length, isStreaming: !ended }, lastSeq);
  const pending = !ended && last?.role === 'assistant' ? (last.toolCalls ?? []).filter((call) => call.status === 'awaiting_approval') : [];
  for (const { callId, toolName, status, args } of pending) text += encodeSseEvent('tool_call', { callId, toolName, status, args }, lastSeq);
  yield text;
  return { lastSeq, ended };
}

/**
 * A stream's catch-up as SSE text, in pieces a slow client takes one at a time (docs/api.md "Resume"):
 * without a resume point, the history phase; after `Last-Event-ID` within the last turn, exactly the
 * missed events with no `history_done` before them; after the end of the last turn, one
 * `history_done {isStreaming:false}`; across an earlier turn's end, the history phase again (clients
 * would stop at that earlier terminal event). Reads the log in pages of `pageSize` events.
 */
export async function* replayTaskLog(log: TaskEventLog, taskId: string, after: number | undefined, pageSize: number): AsyncGenerator<string, CatchUpEnd> {
  // Whether more events will follow is read from the log, not the task's status: the status turns
  // terminal just before the terminal event is appended, and a follow-up reopens the task.
  // A new connection reads the log once, as it sends the history; only a resume looks first.
  if (after === undefined) return yield* replayHistory(log, taskId, undefined, pageSize);
  const summary = await summarise(log, taskId, after, pageSize);
  const end = { lastSeq: summary.lastSeq, ended: summary.ended };
  // An id beyond the log's end was never sent by this task: the client gets the history afresh
  // instead of a stream that waits for events it claims to have.
  if (after > summary.lastSeq || summary.terminalInside) {
    return yield* replayHistory(log, taskId, summary.lastSeq, pageSize);
  } else if (summary.ended && !summary.missedTerminal) {
    yield encodeSseEvent('history_done', { messageCount: summary.messageCount, isStreaming: false }, summary.lastSeq);
  } else {
    for await (const page of readPages(log, taskId, after, summary.lastSeq, pageSize)) {
      const text = page
        .filter((event) => isLiveEventName(event.event))
        .map((event) => encodeSseEvent(event.event, event.data, event.seq))
        .join('');
      if (text) yield text;
    }
  }
  return end;
}
