import type { LanguageModelV3 } from '@ai-sdk/provider';
import { type AssistantContent, jsonSchema, type ModelMessage, streamText, type Tool, tool } from 'ai';
import type { ModelFailureCode, TaskEventMap, TaskEventName } from '@concierge/shared';
import { describeModelFailure, describeRetry, type ModelFailure } from '../model/describe-model-failure.ts';
import type { ToolContext, ToolDefinition } from '../tools/tool.ts';
import { ToolError } from '../tools/tool.ts';
import type { AgentState, PendingToolCall } from './agent-state.ts';
import { MAX_TOOL_CALLS_PER_STEP, recordToolOutput } from './record-tool-output.ts';

export interface TextRedactor {
  redact(text: string): string;
  /** A redactor for a stream of chunks that holds back a possible secret prefix between chunks. */
  stream(): { push(chunk: string): string; flush(): string };
}

export interface AgentTurnOptions {
  model: LanguageModelV3;
  system: string | undefined;
  // biome-ignore lint/suspicious/noExplicitAny: tools have heterogeneous argument types.
  tools: ReadonlyMap<string, ToolDefinition<any>>;
  toolContext: ToolContext;
  gate(toolName: string, grants: readonly string[]): 'run' | 'ask' | 'deny';
  emit<K extends TaskEventName>(event: K, data: TaskEventMap[K]): Promise<unknown>;
  save(state: AgentState): Promise<void>;
  redactor: TextRedactor;
  signal: AbortSignal;
  maxSteps: number;
  maxRetries: number;
  retryDelayMs: number;
  /** Each failed model attempt, for the log (the detail never reaches visitors). */
  onModelFailure?(failure: ModelFailure, willRetry: boolean): void;
  /** The pause before a retry; a test port (default: a timer that the signal cancels). */
  wait?(ms: number, signal: AbortSignal): Promise<void>;
}

export type AgentTurnResult =
  | { kind: 'completed'; text: string }
  | { kind: 'awaiting_approval' }
  | { kind: 'failed'; message: string; code: ModelFailureCode | 'STEP_LIMIT' };

interface StepResult {
  text: string;
  toolCalls: PendingToolCall[];
}

/**
 * Group commit for streamed text: the deltas that arrive together (one network read of the model's
 * stream), and those that arrive while a write is under way, are joined into one event. An idle stream
 * adds no delay to any delta; a fast one writes (and sends) one event per database round trip instead of
 * one per model token.
 */
function coalesceContent(write: (text: string) => Promise<unknown>) {
  let pending = '';
  let writing: Promise<void> | undefined;
  let failure: { error: unknown } | undefined;
  const next = () => {
    if (writing || pending === '' || failure) return;
    // The deltas of one network read reach us over several microtasks: the write starts once they all
    // have (setImmediate runs after them), so one read becomes one event, at no added delay to speak of.
    writing = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => {
        const text = pending;
        pending = '';
        return write(text);
      })
      .then(
        () => {
          writing = undefined;
          next();
        },
        (error: unknown) => {
          writing = undefined;
          failure = { error };
        },
      );
  };
  const check = () => {
    if (failure) throw new EventWriteFailed('writing streamed text failed', { cause: failure.error });
  };
  return {
    push(text: string) {
      pending += text;
      next();
    },
    /** Throws the error of a write that failed (a lost lease, the database gone): the turn stops there. */
    check,
    /** Resolves once every pushed delta is written; throws if a write failed. */
    async flush() {
      while (writing || (pending !== '' && !failure)) {
        next();
        await writing;
      }
      check();
    },
    /** Waits for the write under way, ignoring its outcome. */
    async settle() {
      await writing?.catch(() => {});
    },
  };
}

/** A model attempt that failed for good (not retryable, or out of retries). */
class ModelCallFailed extends Error {
  constructor(readonly failure: ModelFailure) {
    super(failure.detail);
  }
}

/** A write of this turn's own events failed (a lost lease, the database gone): not the model's fault, never retried as such. */
class EventWriteFailed extends Error {}

/** An `error` part of the model's stream; `cause` is whatever the provider sent (often a plain object). */
class StreamErrorPart extends Error {}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** How long a tool whose signal fired may take to stop before the turn moves on without it. */
const ABANDON_GRACE_MS = 2000;
/** Grace past a shell command's own timeout, for the sandbox to kill and reap it. */
export const SHELL_DEADLINE_GRACE_MS = 5_000;
/** A call interrupted this many times by restarts is answered with an error instead of run again. */
export const MAX_INTERRUPTED_STARTS = 2;
/** Deadline of a tool with no timeout of its own (the file tools). */
export const DEFAULT_TOOL_DEADLINE_MS = 10_000;

/** How long a tool call may take before it is abandoned with an error: its own timeout, else a short default. */
// biome-ignore lint/suspicious/noExplicitAny: tools have heterogeneous argument types.
export function toolDeadlineMs(definition: ToolDefinition<any>, context: ToolContext, args: Record<string, unknown>): number {
  if (definition.timeoutMs !== undefined) return definition.timeoutMs;
  if (definition.name === 'run_shell_command') {
    const own = typeof args.timeoutMs === 'number' ? Math.min(args.timeoutMs, context.limits.commandTimeoutMs) : context.limits.commandTimeoutMs;
    return own + SHELL_DEADLINE_GRACE_MS;
  }
  return DEFAULT_TOOL_DEADLINE_MS;
}

// A bold first line in the reasoning (`**Planning**`) becomes the thought's subject.
function toThought(reasoning: string): TaskEventMap['thought'] {
  const match = /^\s*\*\*(.{1,80}?)\*\*\s*/.exec(reasoning);
  return match ? { subject: match[1]!, description: reasoning.slice(match[0].length).trim() } : { subject: 'Thinking', description: reasoning.trim() };
}

/**
 * Runs the agent until the turn ends: the model answers without tool calls (completed), a tool call
 * needs the user's approval (state saved, nothing left running), or the model keeps failing.
 * Mutates and saves `state` after every step, so a restart continues from the last saved step.
 */
export async function runAgentTurn(state: AgentState, options: AgentTurnOptions): Promise<AgentTurnResult> {
  const { signal } = options;
  const modelTools: Record<string, Tool> = {};
  for (const definition of options.tools.values()) {
    modelTools[definition.name] = tool({
      description: definition.description,
      // biome-ignore lint/suspicious/noExplicitAny: an MCP tool's schema is whatever its server declares.
      inputSchema: definition.jsonSchema ? jsonSchema(definition.jsonSchema as any) : definition.inputSchema,
    });
  }

  /** One model call; `attempt.text` is what it has streamed so far, also when it fails. */
  const streamStep = async (attempt: { text: string }): Promise<StepResult> => {
    const result = streamText({
      model: options.model,
      system: options.system,
      messages: state.messages,
      tools: modelTools,
      abortSignal: signal,
      maxRetries: 0,
      // Errors arrive as `error` parts below; the SDK's default handler would print them to stderr.
      onError: () => {},
    });
    const textStream = options.redactor.stream();
    let text = '';
    let reasoning = '';
    const toolCalls: PendingToolCall[] = [];
    // Text of a later step starts a new paragraph of the same assistant message.
    let separator = state.turnText && !/\s$/.test(state.turnText) ? '\n\n' : '';
    const content = coalesceContent((chunk) => options.emit('content', { text: chunk, isPartial: true }));
    const emitText = (raw: string) => {
      if (!raw) return;
      const chunk = separator + raw;
      separator = '';
      text += chunk;
      attempt.text = text;
      content.push(chunk);
    };
    /** Every other event follows the text before it: the coalesced text is written first. */
    const emitAfterText = async <K extends TaskEventName>(event: K, data: TaskEventMap[K]) => {
      await content.flush();
      await options.emit(event, data).catch((error: unknown) => {
        throw new EventWriteFailed(`writing ${event} failed`, { cause: error });
      });
    };
    try {
      for await (const part of result.fullStream) {
        signal.throwIfAborted();
        content.check();
        switch (part.type) {
          case 'text-delta':
            emitText(textStream.push(part.text));
            break;
          case 'reasoning-delta':
            reasoning += part.text;
            break;
          case 'reasoning-end':
            if (reasoning.trim()) await emitAfterText('thought', toThought(options.redactor.redact(reasoning)));
            reasoning = '';
            break;
          case 'tool-call': {
            const args = (part.input && typeof part.input === 'object' ? part.input : {}) as Record<string, unknown>;
            const call: PendingToolCall = { callId: part.toolCallId, toolName: part.toolName, args: JSON.parse(options.redactor.redact(JSON.stringify(args))) };
            if ('invalid' in part && part.invalid) call.invalid = errorText((part as { error?: unknown }).error);
            // Still answered (providers want a result for every call), but not run.
            else if (toolCalls.length >= MAX_TOOL_CALLS_PER_STEP) call.invalid = `more than ${MAX_TOOL_CALLS_PER_STEP} tool calls in one step; make the rest in the next step`;
            toolCalls.push(call);
            break;
          }
          case 'error':
            throw new StreamErrorPart('model stream error', { cause: part.error });
          default:
            break;
        }
      }
      emitText(textStream.flush());
      await content.flush();
    } finally {
      // A failed attempt leaves no write running behind the retry's events.
      await content.settle();
    }
    if (reasoning.trim()) await options.emit('thought', toThought(options.redactor.redact(reasoning)));
    return { text, toolCalls };
  };

  const wait = options.wait ?? sleep;
  const streamStepWithRetries = async (): Promise<StepResult> => {
    for (let attempt = 0; ; attempt++) {
      const progress = { text: '' };
      try {
        return await streamStep(progress);
      } catch (error) {
        if (signal.aborted) throw signal.reason;
        if (error instanceof EventWriteFailed) throw error.cause;
        // A bad request or a wrong provider key will not heal by waiting: fail at once.
        const failure = describeModelFailure(error instanceof StreamErrorPart ? error.cause : error);
        const willRetry = failure.retryable && attempt < options.maxRetries;
        options.onModelFailure?.({ ...failure, detail: options.redactor.redact(failure.detail) }, willRetry);
        if (!willRetry) throw new ModelCallFailed(failure);
        // The provider's Retry-After (capped) wins over our own backoff.
        const delayMs = failure.retryAfterMs ?? options.retryDelayMs * 2 ** attempt;
        // The failed attempt's partial text is in the log and on live screens: tell clients to drop it,
        // since the retried attempt streams the step again from its start.
        await options.emit('status', {
          status: 'retrying',
          message: describeRetry(failure, delayMs),
          ...(progress.text !== '' ? { resetContent: true } : {}),
        });
        // Folds that reset the whole message get the text of this turn's earlier steps back.
        if (progress.text !== '' && state.turnText !== '') await options.emit('content', { text: state.turnText, isPartial: false });
        await wait(delayMs, signal);
        await options.emit('status', { status: 'processing' });
      }
    }
  };

  const runToolCall = async (call: PendingToolCall): Promise<{ status: 'success' | 'error' | 'rejected'; output: string }> => {
    if (call.invalid) return { status: 'error', output: `Invalid tool call: ${call.invalid}` };
    const definition = options.tools.get(call.toolName);
    if (!definition) return { status: 'error', output: `Unknown tool "${call.toolName}".` };
    const parsed = definition.inputSchema.safeParse(call.args);
    if (!parsed.success) return { status: 'error', output: `Invalid arguments for ${call.toolName}: ${parsed.error.message}` };
    const deadlineMs = toolDeadlineMs(definition, options.toolContext, parsed.data as Record<string, unknown>);
    // The tool's own signal also fires at the deadline, so its work (a process, an MCP request) stops too.
    const controller = new AbortController();
    const onAbort = () => controller.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    let timer: NodeJS.Timeout | undefined;
    // Never await a promise that may never settle (a blocked read, a silent MCP server) on its own:
    // the deadline and the task's abort signal each end the wait.
    const deadline = new Promise<'deadline'>((resolve) => {
      timer = setTimeout(() => resolve('deadline'), deadlineMs);
      timer.unref();
    });
    const aborted = new Promise<'aborted'>((resolve) => controller.signal.addEventListener('abort', () => resolve('aborted'), { once: true }));
    const execution = definition.execute(parsed.data, { ...options.toolContext, signal: controller.signal }).then(
      (outcome) => ({ outcome }),
      (error: unknown) => ({ error }),
    );
    // Once its signal has fired, a tool that honours it (the sandbox kills and reaps its processes) is
    // given a short, bounded while to finish, so cancel answers after the work is gone when it can.
    const letItStop = async () => {
      let graceTimer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => {
        graceTimer = setTimeout(resolve, ABANDON_GRACE_MS);
        graceTimer.unref();
      });
      await Promise.race([execution, grace]);
      clearTimeout(graceTimer);
    };
    try {
      const settled = await Promise.race([execution, deadline, aborted]);
      if (signal.aborted) {
        await letItStop();
        throw signal.reason;
      }
      if (settled === 'deadline') {
        controller.abort(new ToolError(`${call.toolName} did not finish within ${deadlineMs} ms`));
        await letItStop();
        return { status: 'error', output: `The tool ${call.toolName} did not finish within its deadline of ${Math.round(deadlineMs / 1000)}s and was abandoned.` };
      }
      if (settled === 'aborted') throw signal.reason;
      if ('outcome' in settled) return { status: settled.outcome.status, output: settled.outcome.output };
      const { error } = settled;
      if (error instanceof ToolError) return { status: 'error', output: error.message };
      return { status: 'error', output: `The tool failed: ${error instanceof Error ? error.message : String(error)}` };
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    }
  };

  /** Answers every pending call it can; false when one waits for the user. */
  const resolvePending = async (): Promise<boolean> => {
    for (const call of state.pending) {
      if (state.results.some((result) => result.callId === call.callId)) continue;
      const { callId, toolName, args } = call;
      const gate = options.gate(toolName, state.grants);
      const decision = state.decisions[callId];
      let result: { status: 'success' | 'error' | 'rejected'; output: string };
      if (gate === 'deny') {
        await options.emit('tool_call', { callId, toolName, status: 'rejected', args });
        result = { status: 'rejected', output: `The project's policy denies the tool "${toolName}"; it was not run.` };
      } else if (decision === 'cancel') {
        result = { status: 'rejected', output: 'The user declined to run this tool call. Do not retry it; continue without it.' };
      } else if (gate === 'ask' && !decision) {
        if (!state.announced.includes(callId)) {
          // Saved before it is announced: a client that approves the moment the event arrives finds the call.
          state.announced.push(callId);
          await options.save(state);
          await options.emit('tool_call', { callId, toolName, status: 'awaiting_approval', args });
        }
        return false;
      } else {
        // A call the user just approved was announced already: Sigmic sends its tool_result next, not a second tool_call.
        if (!state.announced.includes(callId)) await options.emit('tool_call', { callId, toolName, status: 'executing', args });
        const starts = state.started[callId] ?? 0;
        if (starts >= MAX_INTERRUPTED_STARTS) {
          result = { status: 'error', output: `The tool call was interrupted ${starts} times by a server restart; it is not run again.` };
        } else {
          // Saved before the call runs, so a call that takes the server down is not re-run forever on resume.
          state.started[callId] = starts + 1;
          await options.save(state);
          result = await runToolCall(call);
        }
        result.output = options.redactor.redact(result.output);
      }
      result.output = recordToolOutput(result.output, state.outputChars);
      state.outputChars += result.output.length;
      await options.emit('tool_result', { callId, toolName, status: result.status, output: result.output });
      state.results.push({ callId, toolName, output: result.output });
      await options.save(state);
    }
    state.messages.push({
      role: 'tool',
      content: state.results.map((result) => ({
        type: 'tool-result' as const,
        toolCallId: result.callId,
        toolName: result.toolName,
        output: { type: 'text' as const, value: result.output },
      })),
    });
    state.pending = [];
    state.results = [];
    state.decisions = {};
    state.announced = [];
    state.started = {};
    await options.save(state);
    return true;
  };

  try {
    for (;;) {
      signal.throwIfAborted();
      if (state.pending.length > 0) {
        if (!(await resolvePending())) return { kind: 'awaiting_approval' };
        continue;
      }
      if (state.steps >= options.maxSteps) {
        return { kind: 'failed', code: 'STEP_LIMIT', message: `The agent stopped after ${options.maxSteps} steps without finishing.` };
      }
      const step = await streamStepWithRetries();
      state.steps += 1;
      state.turnText += step.text;
      const content: Exclude<AssistantContent, string> = [];
      if (step.text) content.push({ type: 'text', text: step.text });
      for (const call of step.toolCalls) content.push({ type: 'tool-call', toolCallId: call.callId, toolName: call.toolName, input: call.args });
      if (content.length > 0) state.messages.push({ role: 'assistant', content } as ModelMessage);
      if (step.toolCalls.length === 0) {
        await options.save(state);
        return { kind: 'completed', text: state.turnText };
      }
      state.pending = step.toolCalls;
      await options.save(state);
    }
  } catch (error) {
    if (error instanceof ModelCallFailed) return { kind: 'failed', code: error.failure.code, message: error.failure.message };
    throw error;
  }
}
