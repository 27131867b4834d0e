import { type FoldableEvent, foldTaskEvent, isLiveEventName, isTerminalEvent, type Message } from '@concierge/shared';
import type { TaskStreamEvent } from '../api/task-stream.ts';

/** One turn as the widget shows it: a history message plus whether the agent is still writing it. */
export interface ChatMessage extends Message {
  streaming: boolean;
  /** Shown before the server confirmed it (optimistic user message). */
  local?: boolean;
  /** Length of `content` at this turn's last tool call: a retry with `resetContent` cuts the text back to it. */
  keptContent?: number;
}

/** Where the conversation is; drives the composer, the Stop button and the status line. */
export type ConversationPhase =
  | 'empty'
  | 'loading'
  | 'idle'
  | 'sending'
  | 'working'
  | 'awaiting_approval'
  | 'completed'
  | 'failed'
  | 'cancelled';

export interface ConversationState {
  messages: ChatMessage[];
  phase: ConversationPhase;
  error: { message: string; code: string } | null;
  /** The model call is being retried (status `retrying`) until the next event of the turn. */
  retrying: boolean;
  /** Highest live event sequence applied; the reconnect's Last-Event-ID. */
  lastSeq: number;
  /** History being collected during a full replay; swapped in at history_done. */
  replay: ChatMessage[] | null;
}

export type ConversationAction =
  | { type: 'connect'; resumed: boolean }
  | { type: 'event'; event: TaskStreamEvent }
  | { type: 'send'; message: ChatMessage }
  | { type: 'unsend'; id: string }
  | { type: 'phase'; phase: ConversationPhase; error?: { message: string; code: string } | null }
  | { type: 'reset' };

/** The state of a conversation nobody has written in yet. */
export function createConversationState(): ConversationState {
  return { messages: [], phase: 'empty', error: null, retrying: false, lastSeq: 0, replay: null };
}

/** Converts a `history_message` into the view's message. */
export function toChatMessage(message: Message, streaming = false): ChatMessage {
  return { ...message, role: message.role === 'user' ? 'user' : 'assistant', streaming };
}

const ACTIVE: ConversationPhase[] = ['sending', 'working', 'awaiting_approval'];

/** Whether the agent is busy with this conversation (the composer is then disabled). */
export function isActivePhase(phase: ConversationPhase): boolean {
  return ACTIVE.includes(phase);
}

function finishStreaming(messages: ChatMessage[]): ChatMessage[] {
  const last = messages.at(-1);
  if (!last?.streaming) return messages;
  return [...messages.slice(0, -1), { ...last, streaming: false }];
}

function hasPendingApproval(messages: readonly Message[]): boolean {
  const last = messages.at(-1);
  return last?.role === 'assistant' && (last.toolCalls ?? []).some((call) => call.status === 'awaiting_approval');
}

/** Keeps optimistic user messages the replayed history does not contain yet. */
function mergeLocal(history: ChatMessage[], previous: ChatMessage[]): ChatMessage[] {
  const missing = previous.filter(
    (message) => message.local && !history.some((known) => known.role === 'user' && known.content === message.content),
  );
  return missing.length ? [...history, ...missing] : history;
}

/** A retry discards the text written since the turn's last tool call (the next attempt sends it again). */
function resetContent(messages: ChatMessage[]): ChatMessage[] {
  const last = messages.at(-1);
  if (last?.role !== 'assistant' || !last.streaming) return messages;
  return [...messages.slice(0, -1), { ...last, content: last.content.slice(0, last.keptContent ?? 0) }];
}

/** Applies a turn event through the shared fold; the message it wrote into is marked as streaming unless the turn ended. */
function foldLive(messages: ChatMessage[], event: TaskStreamEvent): ChatMessage[] {
  const folded = foldTaskEvent(messages, event as FoldableEvent) as ChatMessage[];
  if (folded === messages) return messages;
  const last = folded.at(-1)!;
  const streaming = !isTerminalEvent(event);
  const keptContent = event.event === 'tool_call' ? last.content.length : last.keptContent;
  const next = folded.slice();
  next[next.length - 1] = { ...last, streaming, ...(keptContent === undefined ? {} : { keptContent }) };
  return next;
}

function applyEvent(state: ConversationState, event: TaskStreamEvent): ConversationState {
  if (event.seq !== undefined) {
    // History events carry the last sequence they cover (history_done shares its last message's): only live ones repeat.
    if (event.seq <= state.lastSeq && isLiveEventName(event.event)) return state;
    if (event.seq > state.lastSeq) state = { ...state, lastSeq: event.seq };
  }
  const messages = state.replay ?? state.messages;
  const withMessages = (next: ChatMessage[], patch: Partial<ConversationState> = {}): ConversationState =>
    state.replay ? { ...state, replay: next, retrying: false, ...patch } : { ...state, messages: next, retrying: false, ...patch };
  const active = (next: ChatMessage[]): ConversationPhase => (hasPendingApproval(next) ? 'awaiting_approval' : 'working');

  switch (event.event) {
    case 'history_message': {
      // A server that ignored Last-Event-ID replays history: collect it as a full replay.
      const replay = state.replay ?? [];
      if (replay.some((message) => message.id === event.data.id)) return state;
      return { ...state, replay: [...replay, toChatMessage(event.data)] };
    }
    case 'history_done': {
      let next = state.replay ? mergeLocal(state.replay, state.messages) : state.messages;
      const last = next.at(-1);
      if (event.data.isStreaming && last?.role === 'assistant' && !last.streaming) {
        next = [...next.slice(0, -1), { ...last, streaming: true }];
      }
      const phase: ConversationPhase = event.data.isStreaming
        ? active(next)
        : state.phase === 'loading'
          ? next.length
            ? 'idle'
            : 'empty'
          : state.phase;
      return { ...state, messages: next, replay: null, phase };
    }
    case 'user_message': {
      // The widget's own: it replaces the optimistic message instead of appending (the fold renumbers ids).
      const next = finishStreaming(messages);
      if (next.some((message) => message.id === event.data.id && !message.local)) return withMessages(next);
      const localIndex = next.findIndex((message) => message.local && message.content === event.data.content);
      const confirmed = toChatMessage(event.data);
      if (localIndex >= 0) {
        const replaced = next.slice();
        replaced[localIndex] = confirmed;
        return withMessages(replaced, { phase: active(replaced) });
      }
      return withMessages([...next, confirmed], { phase: 'working' });
    }
    case 'status': {
      const status = event.data.status;
      if (status === 'cancelled') return withMessages(finishStreaming(foldLive(messages, event)), { phase: 'cancelled' });
      if (status === 'retrying') {
        const next = event.data.resetContent ? resetContent(messages) : messages;
        return { ...withMessages(next, { phase: active(next) }), retrying: true };
      }
      if (status === 'awaiting_approval') return { ...state, retrying: false, phase: 'awaiting_approval' };
      return { ...state, retrying: false, phase: active(messages) };
    }
    case 'error':
      return withMessages(finishStreaming(foldLive(messages, event)), {
        phase: 'failed',
        error: { message: event.data.message, code: String(event.data.code) },
      });
    case 'done':
      return withMessages(finishStreaming(foldLive(messages, event)), { phase: 'completed', error: null });
    case 'content':
    case 'thought':
    case 'tool_call':
    case 'tool_result': {
      const next = foldLive(messages, event);
      return withMessages(next, { phase: active(next) });
    }
    default:
      return state;
  }
}

/** Pure state transition for one action; returns the same object when nothing changed. */
export function reduceConversation(state: ConversationState, action: ConversationAction): ConversationState {
  switch (action.type) {
    case 'connect':
      return action.resumed ? state : { ...state, replay: [], lastSeq: 0 };
    case 'event':
      return applyEvent(state, action.event);
    case 'send':
      return { ...state, messages: [...state.messages, action.message], phase: 'sending', error: null, retrying: false };
    case 'unsend':
      return { ...state, messages: state.messages.filter((message) => message.id !== action.id) };
    case 'phase':
      return {
        ...state,
        phase: action.phase,
        error: action.error === undefined ? state.error : action.error,
        retrying: isActivePhase(action.phase) && state.retrying,
        messages: isActivePhase(action.phase) ? state.messages : finishStreaming(state.messages),
      };
    case 'reset':
      return createConversationState();
  }
}
