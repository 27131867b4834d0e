import type { ApprovalOutcome, Message, Thought, ToolCallStatus } from './task.ts';
import type { TaskErrorCode } from './errors.ts';

/** Payload of each SSE event, keyed by its `event:` name. */
export interface TaskEventMap {
  history_message: Message;
  history_done: { messageCount: number; isStreaming: boolean };
  status: {
    status: 'connecting' | 'processing' | 'retrying' | 'cancelled' | 'awaiting_approval';
    message?: string;
    /** On `retrying`: discard this turn's assistant text since its last tool call; the next attempt sends it again. */
    resetContent?: boolean;
  };
  thought: Thought;
  content: { text: string; isPartial: boolean };
  tool_call: { callId: string; toolName: string; status: ToolCallStatus; args: Record<string, unknown> };
  tool_result: { callId: string; toolName?: string; status: ToolCallStatus; output: string };
  /** A user turn: our addition. Folded into `history_message` on a full replay; sent as is on a resumed stream. */
  user_message: Message;
  /** The user's answer to an approval: our addition, log only (Sigmic sends no second tool_call; history shows it). */
  tool_decision: { callId: string; outcome: ApprovalOutcome };
  error: { message: string; code: TaskErrorCode | string };
  done: { finalResponse: string };
}

export type TaskEventName = keyof TaskEventMap;

/** One entry of a task's durable event log. */
export type TaskEvent = {
  [K in TaskEventName]: { seq: number; event: K; data: TaskEventMap[K]; createdAt: string };
}[TaskEventName];

/** Events that end a live stream. */
export function isTerminalEvent(event: { event: string; data: unknown }): boolean {
  if (event.event === 'done' || event.event === 'error') return true;
  return event.event === 'status' && (event.data as { status?: string }).status === 'cancelled';
}
