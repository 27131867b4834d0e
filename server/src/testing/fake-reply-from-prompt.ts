import {
  decideScriptedTurn,
  isDeniedResultText,
  splitSentences,
  type ScriptedToolResult,
} from '../runtime/model/decide-scripted-turn.ts';
import type { FakeChatMessage, FakeChatRequest, FakeReply } from './fake-openai-server.ts';

const SLOW_CHUNK_DELAY_MS = 100;
/** HTTP status of the "fail" prompt's error: a 503 is retryable for every AI SDK provider. */
const FAILURE_STATUS = 503;

/**
 * The fake server's default replies: the same plain-language triggers as the `scripted` model ("list files",
 * "run `cmd`", "write a report", "read <path>", "echo $NAME", "fail", "slow", "markdown"), read from the last user
 * message and the tool results after it, without the demo-model label. Tests override it for anything else.
 */
export function fakeReplyFromPrompt(request: FakeChatRequest): FakeReply {
  const messages = request.messages;
  let lastUserIndex = -1;
  messages.forEach((message, index) => {
    if (message.role === 'user') lastUserIndex = index;
  });
  const lastUser = messages[lastUserIndex];
  const calls = new Map<string, { name: string; input: unknown }>();
  const toolResults: ScriptedToolResult[] = [];
  for (const message of messages.slice(lastUserIndex + 1)) {
    for (const call of message.tool_calls ?? []) {
      calls.set(call.id, { name: call.function.name, input: parseJson(call.function.arguments) });
    }
    if (message.role === 'tool') {
      const call = calls.get(message.tool_call_id ?? '');
      const output = contentText(message);
      toolResults.push({
        toolName: call?.name ?? 'unknown_tool',
        input: call?.input,
        output,
        isError: false,
        isDenied: isDeniedResultText(output),
      });
    }
  }
  const turn = decideScriptedTurn({
    lastUserText: lastUser === undefined ? '' : contentText(lastUser),
    toolResults,
    ...(request.tools !== undefined ? { availableTools: request.tools.map((tool) => tool.function.name) } : {}),
  });
  switch (turn.type) {
    case 'fail':
      return { error: { status: FAILURE_STATUS, message: turn.message.replace('scripted model', 'fake model') } };
    case 'text':
      return turn.slow
        ? { reasoning: turn.reasoning, text: splitSentences(turn.text), delayMs: SLOW_CHUNK_DELAY_MS }
        : { reasoning: turn.reasoning, text: turn.text };
    case 'tool-call':
      return { reasoning: turn.reasoning, text: turn.text, toolCalls: [{ name: turn.toolName, args: turn.input }] };
  }
}

function contentText(message: FakeChatMessage): string {
  const content = message.content;
  if (typeof content === 'string') return content;
  return (content ?? []).map((part) => part.text ?? '').join('\n');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
