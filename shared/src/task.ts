/** Task lifecycle. Terminal: completed, failed, cancelled. */
export type TaskStatus = 'pending' | 'running' | 'awaiting_approval' | 'completed' | 'failed' | 'cancelled';

export const TERMINAL_STATUSES: readonly TaskStatus[] = ['completed', 'failed', 'cancelled'];

export function isTerminalStatus(status: TaskStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

export type ToolCallStatus = 'awaiting_approval' | 'executing' | 'success' | 'error' | 'rejected';

export type ApprovalOutcome = 'proceed_once' | 'proceed_always' | 'cancel';

export const APPROVAL_OUTCOMES: readonly ApprovalOutcome[] = ['proceed_once', 'proceed_always', 'cancel'];

export interface Thought {
  subject: string;
  description: string;
}

export interface ToolCall {
  callId: string;
  toolName: string;
  status: ToolCallStatus;
  args: Record<string, unknown>;
  output?: string;
}

export interface PendingApproval {
  callId: string;
  toolName: string;
  args: Record<string, unknown>;
}

export interface AttachedFile {
  name: string;
  path: string;
}

/** One turn of the conversation, as history and `history_message` carry it. */
export interface Message {
  id: string;
  role: 'user' | 'assistant';
  content: string;
  createdAt: string;
  attachedFiles?: AttachedFile[];
  thoughts?: Thought[];
  toolCalls?: ToolCall[];
  /** Our addition (assistant messages only): the turn failed or was cancelled, and why. */
  interrupted?: TurnInterruption;
}

/** How an assistant turn ended without an answer: `failed` carries the `error` event's message and code. */
export interface TurnInterruption {
  reason: 'failed' | 'cancelled';
  message: string;
  code?: string;
}

export interface TaskOutput {
  content: string;
  updatedAt: string;
  thoughts?: Thought[];
  toolCalls?: ToolCall[];
}

/** GET /tasks/{id}. */
export interface Task {
  id: string;
  apiKeyId: string | null;
  username: string;
  sessionId: string;
  conversationId: string;
  status: TaskStatus;
  message: string;
  systemPrompt: string | null;
  showInHistory: boolean;
  autoExecute: boolean;
  env: Record<string, string> | null;
  error: string | null;
  createdAt: string;
  startedAt: string | null;
  completedAt: string | null;
  output?: TaskOutput;
  pendingApprovals?: PendingApproval[];
}

/** One row of GET /tasks. */
export interface TaskListItem extends Omit<Task, 'output' | 'pendingApprovals'> {
  lastActivityAt: string;
  messageCount: number;
}

export interface TaskHistory {
  taskId: string;
  conversationId: string;
  status: TaskStatus;
  messages: Message[];
}

export interface Artifact {
  name: string;
  path: string;
  size: number;
  mimeType: string;
  category: string;
  modifiedAt: string;
}
