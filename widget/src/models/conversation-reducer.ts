import type { AttachedFile, Message, Thought, ToolCall } from '@concierge/shared';
import type { TaskStreamEvent } from '../api/task-stream.ts';

/** One turn as the widget shows it; `streaming` while the agent is still writing it. */
export interface ChatMessage {
  id: string;
  role: 'user' | 'assistant';
  content: string;
  createdAt: string;
  attachedFiles?: AttachedFile[];
  thoughts: Thought[];
  toolCalls: ToolCall[];
  streaming: boolean;
  /** Shown before the server confirmed it (optimistic user message). */
  local?: boolean;
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
  return { messages: [], phase: 'empty', error: null, lastSeq: 0, replay: null };
}

/** Converts a `history_message` into the view's message. */
export function toChatMessage(message: Message, streaming = false): ChatMessage {
  return {
    id: message.id,
    role: message.role === 'user' ? 'user' : 'assistant',
    content: typeof message.content === 'string' ? message.content : '',
    createdAt: message.createdAt,
    ...(message.attachedFiles?.length ? { attachedFiles: message.attachedFiles } : {}),
    thoughts: message.thoughts ?? [],
    toolCalls: message.toolCalls ?? [],
    streaming,
  };
}

const ACTIVE: ConversationPhase[] = ['sending', 'working', 'awaiting_approval'];

/** Whether the agent is busy with this conversation (the composer is then disabled). */
export function isActivePhase(phase: ConversationPhase): boolean {
  return ACTIVE.includes(phase);
}

/** Index of the assistant message live events write into, creating it if the last turn is not one. */
function currentAssistant(messages: ChatMessage[], seq: number | undefined): [ChatMessage[], number] {
  const last = messages[messages.length - 1];
  if (last?.role === 'assistant' && last.streaming) return [messages.slice(), messages.length - 1];
  const created: ChatMessage = {
    id: `live-${seq ?? Date.now()}`,
    role: 'assistant',
    content: '',
    createdAt: new Date().toISOString(),
    thoughts: [],
    toolCalls: [],
    streaming: true,
  };
  return [[...messages, created], messages.length];
}

function finishStreaming(messages: ChatMessage[], finalText?: string): ChatMessage[] {
  const last = messages[messages.length - 1];
  if (!last?.streaming) return messages;
  let content = last.content;
  // `done.finalResponse` repairs a prefix we hold (never shortens text we already show).
  if (finalText?.startsWith(content)) content = finalText;
  return [...messages.slice(0, -1), { ...last, content, streaming: false }];
}

function updateToolCall(
  messages: ChatMessage[],
  callId: string,
  seq: number | undefined,
  update: (call: ToolCall | undefined) => ToolCall,
): ChatMessage[] {
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i]!;
    const index = message.toolCalls.findIndex((call) => call.callId === callId);
    if (index < 0) continue;
    const toolCalls = message.toolCalls.slice();
    toolCalls[index] = update(toolCalls[index]);
    const next = messages.slice();
    next[i] = { ...message, toolCalls };
    return next;
  }
  const [next, i] = currentAssistant(messages, seq);
  const message = next[i]!;
  next[i] = { ...message, toolCalls: [...message.toolCalls, update(undefined)] };
  return next;
}

function hasPendingApproval(messages: ChatMessage[]): boolean {
  const last = messages[messages.length - 1];
  return last?.role === 'assistant' && last.toolCalls.some((call) => call.status === 'awaiting_approval');
}

/** Keeps optimistic user messages the replayed history does not contain yet. */
function mergeLocal(history: ChatMessage[], previous: ChatMessage[]): ChatMessage[] {
  const missing = previous.filter(
    (message) => message.local && !history.some((known) => known.role === 'user' && known.content === message.content),
  );
  return missing.length ? [...history, ...missing] : history;
}

function applyEvent(state: ConversationState, event: TaskStreamEvent): ConversationState {
  if (event.seq !== undefined) {
    if (event.seq <= state.lastSeq) return state;
    state = { ...state, lastSeq: event.seq };
  }
  const messages = state.replay ?? state.messages;
  const withMessages = (next: ChatMessage[], patch: Partial<ConversationState> = {}): ConversationState =>
    state.replay ? { ...state, replay: next, ...patch } : { ...state, messages: next, ...patch };
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
      const last = next[next.length - 1];
      if (event.data.isStreaming && last?.role === 'assistant' && !last.streaming) {
        next = [...next.slice(0, -1), { ...last, streaming: true }];
      }
      const phase: ConversationPhase = event.data.isStreaming
        ? hasPendingApproval(next)
          ? 'awaiting_approval'
          : 'working'
        : state.phase === 'loading'
          ? next.length
            ? 'idle'
            : 'empty'
          : state.phase;
      return { ...state, messages: next, replay: null, phase };
    }
    case 'user_message': {
      const next = finishStreaming(messages);
      if (next.some((message) => message.id === event.data.id)) return withMessages(next);
      const localIndex = next.findIndex((message) => message.local && message.content === event.data.content);
      const confirmed = toChatMessage(event.data);
      if (localIndex >= 0) {
        const replaced = next.slice();
        replaced[localIndex] = confirmed;
        return withMessages(replaced, { phase: active(replaced) });
      }
      return withMessages([...next, confirmed], { phase: 'working' });
    }
    case 'content': {
      const [next, i] = currentAssistant(messages, event.seq);
      const message = next[i]!;
      next[i] = { ...message, content: event.data.isPartial ? message.content + event.data.text : event.data.text };
      return withMessages(next, { phase: active(next) });
    }
    case 'thought': {
      const [next, i] = currentAssistant(messages, event.seq);
      const message = next[i]!;
      next[i] = { ...message, thoughts: [...message.thoughts, event.data] };
      return withMessages(next, { phase: active(next) });
    }
    case 'tool_call': {
      const { callId, toolName, status, args } = event.data;
      const next = updateToolCall(messages, callId, event.seq, (call) => ({ ...call, callId, toolName, status, args }));
      return withMessages(next, { phase: active(next) });
    }
    case 'tool_result': {
      const { callId, status, output } = event.data;
      const next = updateToolCall(messages, callId, event.seq, (call) => ({
        callId,
        toolName: call?.toolName ?? event.data.toolName ?? '',
        args: call?.args ?? {},
        status,
        output,
      }));
      return withMessages(next, { phase: active(next) });
    }
    case 'status': {
      const status = event.data.status;
      if (status === 'cancelled') return withMessages(finishStreaming(messages), { phase: 'cancelled' });
      if (status === 'awaiting_approval') return { ...state, phase: 'awaiting_approval' };
      return { ...state, phase: active(messages) };
    }
    case 'error':
      return withMessages(finishStreaming(messages), {
        phase: 'failed',
        error: { message: event.data.message, code: String(event.data.code) },
      });
    case 'done':
      return withMessages(finishStreaming(messages, event.data.finalResponse), { phase: 'completed', error: null });
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
      return { ...state, messages: [...state.messages, action.message], phase: 'sending', error: null };
    case 'unsend':
      return { ...state, messages: state.messages.filter((message) => message.id !== action.id) };
    case 'phase':
      return {
        ...state,
        phase: action.phase,
        error: action.error === undefined ? state.error : action.error,
        messages: isActivePhase(action.phase) ? state.messages : finishStreaming(state.messages),
      };
    case 'reset':
      return createConversationState();
  }
}
