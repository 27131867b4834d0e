import { foldTaskEvents, type Message, type TaskEvent, type TaskOutput } from '@concierge/shared';

export interface BuiltHistory {
  messages: Message[];
  /** The assistant message of the latest turn (also when it is still in progress). */
  lastAssistant: Message | undefined;
  lastSeq: number;
}

/** Folds a task's event log into conversation messages (what history and `history_message` carry). */
export function buildHistory(events: readonly TaskEvent[]): BuiltHistory {
  const messages = foldTaskEvents(events);
  const last = messages.at(-1);
  return { messages, lastAssistant: last?.role === 'assistant' ? last : undefined, lastSeq: events.at(-1)?.seq ?? 0 };
}

/** The `output` field of GET /tasks/{id}: the latest assistant turn. */
export function toTaskOutput(message: Message | undefined, updatedAt: string): TaskOutput | undefined {
  if (!message) return undefined;
  return {
    content: message.content,
    updatedAt,
    ...(message.thoughts?.length ? { thoughts: message.thoughts } : {}),
    ...(message.toolCalls?.length ? { toolCalls: message.toolCalls } : {}),
  };
}
