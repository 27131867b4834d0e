import type { Message, TaskEvent, TaskOutput, ToolCall } from '@concierge/shared';

export interface BuiltHistory {
  messages: Message[];
  /** The assistant message of the latest turn (also when it is still in progress). */
  lastAssistant: Message | undefined;
  lastSeq: number;
}

/** Folds a task's event log into conversation messages (what history and `history_message` carry). */
export function buildHistory(events: readonly TaskEvent[]): BuiltHistory {
  const messages: Message[] = [];
  let assistant: Message | undefined;
  let lastSeq = 0;
  const openAssistant = (createdAt: string): Message => {
    if (!assistant) {
      assistant = { id: `msg-${messages.length + 1}`, role: 'assistant', content: '', createdAt };
      messages.push(assistant);
    }
    return assistant;
  };
  const toolCall = (message: Message, callId: string): ToolCall | undefined => message.toolCalls?.find((call) => call.callId === callId);

  for (const entry of events) {
    lastSeq = entry.seq;
    switch (entry.event) {
      case 'user_message':
        assistant = undefined;
        messages.push({ ...entry.data, id: `msg-${messages.length + 1}` });
        break;
      case 'content': {
        const message = openAssistant(entry.createdAt);
        message.content = entry.data.isPartial ? message.content + entry.data.text : entry.data.text;
        break;
      }
      case 'thought': {
        const message = openAssistant(entry.createdAt);
        message.thoughts = [...(message.thoughts ?? []), { ...entry.data }];
        break;
      }
      case 'tool_call': {
        const message = openAssistant(entry.createdAt);
        const existing = toolCall(message, entry.data.callId);
        if (existing) existing.status = entry.data.status;
        else message.toolCalls = [...(message.toolCalls ?? []), { ...entry.data }];
        break;
      }
      case 'tool_result': {
        const message = openAssistant(entry.createdAt);
        const existing = toolCall(message, entry.data.callId);
        if (existing) {
          existing.status = entry.data.status;
          existing.output = entry.data.output;
        }
        break;
      }
      case 'done':
        openAssistant(entry.createdAt).content = entry.data.finalResponse;
        break;
      default:
        break;
    }
  }
  return { messages, lastAssistant: assistant, lastSeq };
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
