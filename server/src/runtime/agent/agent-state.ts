import type { ModelMessage } from 'ai';
import type { ApprovalOutcome } from '@concierge/shared';

export interface PendingToolCall {
  callId: string;
  toolName: string;
  args: Record<string, unknown>;
  /** Set when the model's arguments failed validation; the call is answered with this error. */
  invalid?: string;
}

export interface ToolResultRecord {
  callId: string;
  toolName: string;
  output: string;
}

/**
 * Everything needed to continue a task after a restart, persisted after every step. Contains no
 * secret values: tool outputs are redacted before they get here.
 */
export interface AgentState {
  messages: ModelMessage[];
  /** Tools the user allowed with `proceed_always`, for the rest of the task. */
  grants: string[];
  /** Tool calls of the last model step that have no result yet, in order. */
  pending: PendingToolCall[];
  results: ToolResultRecord[];
  decisions: Record<string, ApprovalOutcome>;
  /** Call ids already announced as awaiting approval (so a resume does not announce twice). */
  announced: string[];
  /** How often each pending call was started without finishing (a server stopped mid-call); bounds re-runs after restarts. */
  started: Record<string, number>;
  /** Assistant text of the current turn so far. */
  turnText: string;
  steps: number;
  /** Characters of tool output this turn has recorded (events, state, model context): bounded per turn. */
  outputChars: number;
}

export function createAgentState(): AgentState {
  return { messages: [], grants: [], pending: [], results: [], decisions: {}, announced: [], started: {}, turnText: '', steps: 0, outputChars: 0 };
}

/** Clears what a turn counts (its text, steps, tool output kept), so the next turn starts afresh. */
export function endTurn(state: AgentState): void {
  state.turnText = '';
  state.steps = 0;
  state.outputChars = 0;
}

/** Pending tool calls waiting for the user's decision. */
export function awaitingApproval(state: AgentState): PendingToolCall[] {
  return state.pending.filter(
    (call) => state.announced.includes(call.callId) && !state.decisions[call.callId] && !state.results.some((r) => r.callId === call.callId),
  );
}
