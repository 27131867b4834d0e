/** Tool calls answered per model step; more are refused, so one step cannot queue hundreds of commands. */
export const MAX_TOOL_CALLS_PER_STEP = 16;
/** What one tool result may put in the conversation: its event, the saved state, the model's context. */
export const MAX_RECORDED_OUTPUT_CHARS = 256 * 1024;
/** What all tool results of one turn may put there together. */
export const TURN_OUTPUT_BUDGET_CHARS = 2 * 1024 * 1024;

const SHORT_OUTPUT_CHARS = 1024;
const TAIL_CHARS = 4096;

const megabytes = (chars: number) => `${Math.round(chars / 1024 / 1024)} MB`;

/**
 * The part of a tool's (already redacted) output that a turn keeps. Everything a turn records is
 * written to the event log and saved with the task after every call, and sent to the model on every
 * step: without a bound, a model printing megabytes per call made each save rewrite hundreds of
 * megabytes (red team). The full output stays wherever the command wrote it.
 */
export function recordToolOutput(output: string, usedChars: number): string {
  const room = Math.min(MAX_RECORDED_OUTPUT_CHARS, TURN_OUTPUT_BUDGET_CHARS - usedChars);
  // Short answers (a refusal, an error, a denial) are always kept whole: they say what happened.
  if (output.length <= room || output.length <= SHORT_OUTPUT_CHARS) return output;
  const budgetNote = `Output not kept: this turn's tool output budget (${megabytes(TURN_OUTPUT_BUDGET_CHARS)}) is used up. Write large results to a file in the workspace and read only the part you need.`;
  if (room < 1024) return budgetNote;
  // The head and the end are kept: a command's end holds its stderr and what stopped it.
  const tail = output.slice(-Math.min(TAIL_CHARS, Math.floor(room / 2)));
  const noteFor = (left: number) => `\n[… ${left} more characters not kept. Write large results to a file in the workspace and read only the part you need.]\n`;
  const head = output.slice(0, Math.max(0, room - noteFor(output.length).length - tail.length));
  return head + noteFor(output.length - head.length - tail.length) + tail;
}
