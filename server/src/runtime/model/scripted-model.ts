import {
  APICallError,
  type LanguageModelV3,
  type LanguageModelV3CallOptions,
  type LanguageModelV3Content,
  type LanguageModelV3Prompt,
  type LanguageModelV3StreamPart,
  type LanguageModelV3ToolResultOutput,
  type LanguageModelV3Usage,
} from '@ai-sdk/provider';
import {
  DEMO_MODEL_LABEL,
  decideScriptedTurn,
  isDeniedResultText,
  splitSentences,
  type ScriptedConversation,
  type ScriptedToolResult,
  type ScriptedTurn,
} from './decide-scripted-turn.ts';
import { splitWords } from './split-words.ts';

/** Options of the scripted model; the defaults make streaming visible in the widget. */
export type ScriptedModelOptions = {
  /** Pause between streamed chunks (default 15 ms; 0 in tests). */
  chunkDelayMs?: number;
  /** Pause between the chunks of the "slow" reply (default 100 ms). */
  slowChunkDelayMs?: number;
  /** Reported model id (default `demo`). */
  modelId?: string;
};

const DEFAULT_CHUNK_DELAY_MS = 15;
const DEFAULT_SLOW_CHUNK_DELAY_MS = 100;
const WORDS_PER_CHUNK = 3;
const CHARS_PER_TOKEN = 4;

/** Creates the built-in offline demo model: deterministic replies chosen from plain-language prompts. */
export function createScriptedModel(options: ScriptedModelOptions = {}): LanguageModelV3 {
  const chunkDelayMs = options.chunkDelayMs ?? DEFAULT_CHUNK_DELAY_MS;
  const slowChunkDelayMs = options.slowChunkDelayMs ?? DEFAULT_SLOW_CHUNK_DELAY_MS;
  const modelId = options.modelId ?? 'demo';

  return {
    specificationVersion: 'v3',
    provider: 'scripted',
    modelId,
    supportedUrls: {},

    async doGenerate(callOptions) {
      throwIfAborted(callOptions.abortSignal);
      const { turn, step } = planStep(callOptions);
      const content: LanguageModelV3Content[] = [
        { type: 'reasoning', text: step.reasoning },
        { type: 'text', text: step.text },
      ];
      if (step.toolCall !== undefined) content.push(step.toolCall);
      return {
        content,
        finishReason: finishReasonOf(turn),
        usage: usageOf(callOptions.prompt, step),
        response: { id: `scripted-${hash(step.text)}`, modelId, timestamp: new Date(0) },
        warnings: [],
      };
    },

    async doStream(callOptions) {
      throwIfAborted(callOptions.abortSignal);
      const { turn, step } = planStep(callOptions);
      const textChunks = turn.type === 'text' && turn.slow ? splitSentences(step.text) : splitWords(step.text, WORDS_PER_CHUNK);
      const delayMs = turn.type === 'text' && turn.slow ? slowChunkDelayMs : chunkDelayMs;
      const cancelled = new AbortController();
      const signal =
        callOptions.abortSignal === undefined ? cancelled.signal : AbortSignal.any([callOptions.abortSignal, cancelled.signal]);

      async function* parts(): AsyncGenerator<LanguageModelV3StreamPart> {
        yield { type: 'stream-start', warnings: [] };
        yield { type: 'response-metadata', id: `scripted-${hash(step.text)}`, modelId, timestamp: new Date(0) };
        yield { type: 'reasoning-start', id: 'reasoning-0' };
        for (const chunk of splitWords(step.reasoning, WORDS_PER_CHUNK)) {
          await pause(chunkDelayMs, signal);
          yield { type: 'reasoning-delta', id: 'reasoning-0', delta: chunk };
        }
        yield { type: 'reasoning-end', id: 'reasoning-0' };
        yield { type: 'text-start', id: 'text-0' };
        for (const chunk of textChunks) {
          await pause(delayMs, signal);
          yield { type: 'text-delta', id: 'text-0', delta: chunk };
        }
        yield { type: 'text-end', id: 'text-0' };
        if (step.toolCall !== undefined) yield step.toolCall;
        yield { type: 'finish', finishReason: finishReasonOf(turn), usage: usageOf(callOptions.prompt, step) };
      }

      return { stream: toReadableStream(parts(), cancelled), request: { body: { prompt: callOptions.prompt } } };
    },
  };
}

type PlannedStep = {
  reasoning: string;
  text: string;
  toolCall?: { type: 'tool-call'; toolCallId: string; toolName: string; input: string };
};

function planStep(callOptions: LanguageModelV3CallOptions): { turn: Exclude<ScriptedTurn, { type: 'fail' }>; step: PlannedStep } {
  const conversation = toScriptedConversation(callOptions);
  const turn = decideScriptedTurn(conversation);
  if (turn.type === 'fail') {
    throw new APICallError({
      message: turn.message,
      url: 'scripted://concierge',
      requestBodyValues: { lastUserText: conversation.lastUserText },
      statusCode: 503,
      isRetryable: true,
    });
  }
  if (turn.type === 'text') {
    return { turn, step: { reasoning: turn.reasoning, text: `${turn.text}\n\n${DEMO_MODEL_LABEL}` } };
  }
  return {
    turn,
    step: {
      reasoning: turn.reasoning,
      text: turn.text,
      toolCall: {
        type: 'tool-call',
        toolCallId: `call_scripted_${countToolCalls(callOptions.prompt) + 1}`,
        toolName: turn.toolName,
        input: JSON.stringify(turn.input),
      },
    },
  };
}

/** Reads the last user message and the tool results after it from an AI SDK prompt. */
function toScriptedConversation(callOptions: LanguageModelV3CallOptions): ScriptedConversation {
  const prompt = callOptions.prompt;
  let lastUserIndex = -1;
  prompt.forEach((message, index) => {
    if (message.role === 'user') lastUserIndex = index;
  });
  const lastUser = prompt[lastUserIndex];
  const lastUserText =
    lastUser?.role === 'user'
      ? lastUser.content.map((part) => (part.type === 'text' ? part.text : '')).join('\n')
      : '';

  const inputs = new Map<string, unknown>();
  const toolResults: ScriptedToolResult[] = [];
  for (const message of prompt.slice(lastUserIndex + 1)) {
    if (message.role === 'user' || message.role === 'system') continue;
    for (const part of message.content) {
      if (part.type === 'tool-call') inputs.set(part.toolCallId, part.input);
      if (part.type === 'tool-result') {
        const output = outputText(part.output);
        toolResults.push({
          toolName: part.toolName,
          input: inputs.get(part.toolCallId),
          output,
          isError: part.output.type === 'error-text' || part.output.type === 'error-json',
          isDenied: part.output.type === 'execution-denied' || isDeniedResultText(output),
        });
      }
    }
  }
  const tools = callOptions.tools;
  return {
    lastUserText,
    toolResults,
    ...(tools !== undefined ? { availableTools: tools.map((tool) => tool.name) } : {}),
  };
}

function outputText(output: LanguageModelV3ToolResultOutput): string {
  switch (output.type) {
    case 'text':
    case 'error-text':
      return output.value;
    case 'json':
    case 'error-json':
      return JSON.stringify(output.value);
    case 'execution-denied':
      return output.reason ?? 'The user denied this tool call.';
    case 'content':
      return output.value.map((item) => (item.type === 'text' ? item.text : `[${item.type}]`)).join('\n');
  }
}

function countToolCalls(prompt: LanguageModelV3Prompt): number {
  let count = 0;
  for (const message of prompt) {
    if (message.role !== 'assistant') continue;
    for (const part of message.content) if (part.type === 'tool-call') count += 1;
  }
  return count;
}

function finishReasonOf(turn: Exclude<ScriptedTurn, { type: 'fail' }>): { unified: 'stop' | 'tool-calls'; raw: string } {
  return turn.type === 'tool-call' ? { unified: 'tool-calls', raw: 'tool_calls' } : { unified: 'stop', raw: 'stop' };
}

function usageOf(prompt: LanguageModelV3Prompt, step: PlannedStep): LanguageModelV3Usage {
  const inputTokens = Math.ceil(JSON.stringify(prompt).length / CHARS_PER_TOKEN);
  const reasoningTokens = Math.ceil(step.reasoning.length / CHARS_PER_TOKEN);
  const textTokens = Math.ceil((step.text.length + (step.toolCall?.input.length ?? 0)) / CHARS_PER_TOKEN);
  return {
    inputTokens: { total: inputTokens, noCache: inputTokens, cacheRead: 0, cacheWrite: 0 },
    outputTokens: { total: textTokens + reasoningTokens, text: textTokens, reasoning: reasoningTokens },
  };
}

function toReadableStream(
  parts: AsyncGenerator<LanguageModelV3StreamPart>,
  cancelled: AbortController,
): ReadableStream<LanguageModelV3StreamPart> {
  return new ReadableStream<LanguageModelV3StreamPart>({
    async pull(controller) {
      try {
        const next = await parts.next();
        if (next.done === true) controller.close();
        else controller.enqueue(next.value);
      } catch (error) {
        // After cancel() the stream is already closed; erroring it then is a no-op.
        controller.error(error);
      }
    },
    async cancel() {
      cancelled.abort();
    },
  });
}

function abortError(): DOMException {
  return new DOMException('The scripted model call was aborted.', 'AbortError');
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw abortError();
}

/** Waits between chunks; rejects with an AbortError as soon as the signal fires (like an aborted fetch). */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(abortError());
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortError());
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function hash(text: string): string {
  let value = 0;
  for (let index = 0; index < text.length; index += 1) value = (value * 31 + text.charCodeAt(index)) >>> 0;
  return value.toString(16);
}
