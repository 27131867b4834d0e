import type { TaskEventMap, TaskEventName } from './events.ts';
import type { Message, ToolCall, TurnInterruption } from './task.ts';

/** An event as the fold needs it: from the log (with `createdAt`) or from the wire (without). */
export type FoldableEvent = {
  [K in TaskEventName]: { event: K; data: TaskEventMap[K]; createdAt?: string };
}[TaskEventName];

/** What a cancelled turn says in history (the `status` event carries no text). */
export const CANCELLED_TURN_MESSAGE = 'The task was cancelled.';

/** The assistant message live events of the current turn write into: the last message, if it is one. */
function openAssistant(messages: readonly Message[], createdAt: string): [Message[], Message] {
  const last = messages.at(-1);
  if (last?.role === 'assistant') return [messages.slice(0, -1), last];
  return [messages.slice(), { id: `msg-${messages.length + 1}`, role: 'assistant', content: '', createdAt }];
}

function updateAssistant(messages: readonly Message[], createdAt: string, update: (message: Message) => Message): Message[] {
  const [before, message] = openAssistant(messages, createdAt);
  before.push(update(message));
  return before;
}

function upsertToolCall(message: Message, callId: string, update: (call: ToolCall | undefined) => ToolCall): Message {
  const calls = message.toolCalls ?? [];
  const index = calls.findIndex((call) => call.callId === callId);
  if (index < 0) return { ...message, toolCalls: [...calls, update(undefined)] };
  const toolCalls = calls.slice();
  toolCalls[index] = update(calls[index]);
  return { ...message, toolCalls };
}

/** Closes the turn: records why it stopped and closes tool calls left open (never `executing` forever). */
function interrupt(message: Message, interrupted: TurnInterruption): Message {
  const note = interrupted.reason === 'cancelled' ? CANCELLED_TURN_MESSAGE : `The turn failed: ${interrupted.message}`;
  const toolCalls = message.toolCalls?.map((call): ToolCall => {
    if (call.status === 'awaiting_approval') return { ...call, status: 'rejected', output: call.output ?? note };
    if (call.status === 'executing') return { ...call, status: 'error', output: call.output ?? note };
    return call;
  });
  return { ...message, ...(toolCalls ? { toolCalls } : {}), interrupted };
}

/**
 * Applies one task event to a conversation's messages, the one fold behind GET /history,
 * `history_message` and the widget. Pure: returns a new array when something changed, else the same.
 * Assistant messages are numbered `msg-N` by position, as the server's history numbers them.
 */
export function foldTaskEvent(messages: readonly Message[], event: FoldableEvent, now: () => string = () => new Date().toISOString()): readonly Message[] {
  const at = () => event.createdAt ?? now();
  switch (event.event) {
    case 'history_message': {
      const index = messages.findIndex((message) => message.id === event.data.id);
      if (index < 0) return [...messages, event.data];
      const next = messages.slice();
      next[index] = event.data;
      return next;
    }
    case 'user_message':
      return [...messages, { ...event.data, id: `msg-${messages.length + 1}` }];
    case 'content':
      // `isPartial:false` carries the whole text so far (docs/api.md): it replaces, never appends.
      return updateAssistant(messages, at(), (message) => ({
        ...message,
        content: event.data.isPartial ? message.content + event.data.text : event.data.text,
      }));
    case 'thought':
      return updateAssistant(messages, at(), (message) => ({ ...message, thoughts: [...(message.thoughts ?? []), { ...event.data }] }));
    case 'tool_call': {
      const { callId, toolName, status, args } = event.data;
      return updateAssistant(messages, at(), (message) =>
        // A decision can be logged before the call's announcement lands (a client read the call from GET
        // /tasks first): the announcement does not take the call back to waiting.
        upsertToolCall(message, callId, (call) => ({
          ...call,
          callId,
          toolName,
          status: call && status === 'awaiting_approval' ? call.status : status,
          // A call known only from its decision has no arguments yet.
          args: call?.toolName ? call.args : args,
        })),
      );
    }
    case 'tool_decision': {
      // Approved calls run now; a declined one waits for its `rejected` tool_result.
      const status = event.data.outcome === 'cancel' ? 'rejected' : 'executing';
      return updateAssistant(messages, at(), (message) =>
        upsertToolCall(message, event.data.callId, (call) => ({ callId: event.data.callId, toolName: '', args: {}, ...call, status })),
      );
    }
    case 'tool_result': {
      const { callId, status, output } = event.data;
      return updateAssistant(messages, at(), (message) =>
        upsertToolCall(message, callId, (call) => ({
          callId,
          toolName: call?.toolName ?? event.data.toolName ?? '',
          args: call?.args ?? {},
          status,
          output,
        })),
      );
    }
    case 'status': {
      if (event.data.status === 'cancelled') {
        return updateAssistant(messages, at(), (message) => interrupt(message, { reason: 'cancelled', message: CANCELLED_TURN_MESSAGE }));
      }
      // A retried model stream discards the failed attempt's partial text.
      const reset = (event.data as { resetContent?: unknown }).resetContent === true;
      const last = messages.at(-1);
      if (!reset || last?.role !== 'assistant' || last.content === '') return messages;
      return [...messages.slice(0, -1), { ...last, content: '' }];
    }
    case 'error':
      return updateAssistant(messages, at(), (message) =>
        interrupt(message, { reason: 'failed', message: event.data.message, code: String(event.data.code) }),
      );
    case 'done':
      return updateAssistant(messages, at(), (message) => ({ ...message, content: event.data.finalResponse }));
    case 'history_done':
      return messages;
  }
}

/** Folds a whole event sequence (a task's log, or a stream's events in order) into messages. */
export function foldTaskEvents(events: Iterable<FoldableEvent>): Message[] {
  let messages: readonly Message[] = [];
  for (const event of events) messages = foldTaskEvent(messages, event);
  return messages as Message[];
}
