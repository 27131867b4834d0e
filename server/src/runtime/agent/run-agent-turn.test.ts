import type { LanguageModelV3StreamPart } from '@ai-sdk/provider';
import { simulateReadableStream } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DEFAULT_SANDBOX_LIMITS } from '../sandbox/sandbox-limits.ts';
import type { ToolDefinition } from '../tools/tool.ts';
import { createAgentState } from './agent-state.ts';
import { type AgentTurnOptions, DEFAULT_TOOL_DEADLINE_MS, runAgentTurn, SHELL_DEADLINE_GRACE_MS, toolDeadlineMs } from './run-agent-turn.ts';

const usage = { inputTokens: { total: 1, noCache: 1, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: 1, text: 1, reasoning: 0 } };

/** A model that calls `hang` until it has a tool result, then answers "done". */
function hangThenAnswer() {
  return new MockLanguageModelV3({
    doStream: async ({ prompt }) => {
      const chunks: LanguageModelV3StreamPart[] =
        !prompt.some((message) => message.role === 'tool')
          ? [{ type: 'tool-call', toolCallId: 'call-1', toolName: 'hang', input: '{}' }, { type: 'finish', finishReason: { unified: 'tool-calls', raw: undefined }, usage }]
          : [{ type: 'text-start', id: 't' }, { type: 'text-delta', id: 't', delta: 'done' }, { type: 'text-end', id: 't' }, { type: 'finish', finishReason: { unified: 'stop', raw: undefined }, usage }];
      return { stream: simulateReadableStream({ chunks }) };
    },
  });
}

// Stands for a read of a FIFO or an MCP server that never answers: a promise that never settles.
function hangingTool(timeoutMs?: number): ToolDefinition {
  return { name: 'hang', description: 'never returns', inputSchema: z.object({}), ...(timeoutMs ? { timeoutMs } : {}), execute: () => new Promise(() => {}) };
}

function startState() {
  const state = createAgentState();
  state.messages.push({ role: 'user', content: 'go' });
  return state;
}

function options(tool: ToolDefinition, signal: AbortSignal, events: Array<{ event: string; data: unknown }>): AgentTurnOptions {
  return {
    model: hangThenAnswer(),
    system: undefined,
    tools: new Map([[tool.name, tool]]),
    toolContext: { taskId: 't1', workspaceDir: '/nonexistent', env: {}, limits: DEFAULT_SANDBOX_LIMITS, signal },
    gate: () => 'run',
    emit: async (event, data) => {
      events.push({ event, data });
    },
    save: async () => {},
    redactor: { redact: (text) => text, stream: () => ({ push: (chunk) => chunk, flush: () => '' }) },
    signal,
    maxSteps: 5,
    maxRetries: 0,
    retryDelayMs: 0,
  };
}

describe('runAgentTurn', () => {
  it('answers a tool call that never returns with a tool error at its deadline and goes on', async () => {
    const events: Array<{ event: string; data: unknown }> = [];
    const result = await runAgentTurn(startState(), options(hangingTool(20), new AbortController().signal, events));
    expect(result).toEqual({ kind: 'completed', text: 'done' });
    const toolResult = events.find((entry) => entry.event === 'tool_result')?.data as { status: string; output: string };
    expect(toolResult.status).toBe('error');
    expect(toolResult.output).toMatch(/did not finish within its deadline/);
  });

  it('stops when aborted while a tool call never returns', async () => {
    const controller = new AbortController();
    const events: Array<{ event: string; data: unknown }> = [];
    const turnOptions = options(hangingTool(3_600_000), controller.signal, events);
    const emit = turnOptions.emit;
    turnOptions.emit = async (event, data) => {
      await emit(event, data);
      if (event === 'tool_call') setImmediate(() => controller.abort(new Error('cancelled')));
    };
    await expect(runAgentTurn(startState(), turnOptions)).rejects.toThrow('cancelled');
    expect(events.some((entry) => entry.event === 'tool_result')).toBe(false);
  });
});

describe('toolDeadlineMs', () => {
  const context = { taskId: 't', workspaceDir: '/w', env: {}, limits: DEFAULT_SANDBOX_LIMITS, signal: new AbortController().signal };
  it('gives a shell command its timeout plus a grace when it sets none', () => {
    const shell = { ...hangingTool(), name: 'run_shell_command' };
    expect(toolDeadlineMs(shell, context, {})).toBe(DEFAULT_SANDBOX_LIMITS.commandTimeoutMs + SHELL_DEADLINE_GRACE_MS);
    expect(toolDeadlineMs(shell, context, { timeoutMs: 1_000 })).toBe(1_000 + SHELL_DEADLINE_GRACE_MS);
  });
  it('gives a file tool the short default and an MCP tool its own timeout', () => {
    expect(toolDeadlineMs({ ...hangingTool(), name: 'read_file' }, context, {})).toBe(DEFAULT_TOOL_DEADLINE_MS);
    expect(toolDeadlineMs(hangingTool(7_000), context, {})).toBe(7_000);
  });
});

describe('runAgentTurn after restarts', () => {
  it('answers a call interrupted twice by restarts with an error instead of running it again', async () => {
    const state = startState();
    state.messages.push({ role: 'assistant', content: [{ type: 'tool-call', toolCallId: 'call-1', toolName: 'hang', input: {} }] });
    state.pending = [{ callId: 'call-1', toolName: 'hang', args: {} }];
    state.steps = 1;
    state.started = { 'call-1': 2 };
    const events: Array<{ event: string; data: unknown }> = [];
    let ran = false;
    const tool: ToolDefinition = {
      ...hangingTool(3_600_000),
      execute: () => {
        ran = true;
        return new Promise<never>(() => {});
      },
    };
    const result = await runAgentTurn(state, options(tool, new AbortController().signal, events));
    expect(ran).toBe(false);
    expect(result.kind).toBe('completed');
    const toolResult = events.find((entry) => entry.event === 'tool_result')?.data as { status: string; output: string };
    expect(toolResult).toMatchObject({ status: 'error', output: expect.stringMatching(/interrupted 2 times/) });
    expect(state.started).toEqual({});
  });
});

describe('streamed text', () => {
  /** A model that streams `deltas` at once (one network read's worth), then calls the `hang` tool. */
  function burstThenTool(deltas: string[]) {
    return new MockLanguageModelV3({
      doStream: async ({ prompt }) => {
        const answered = prompt.some((message) => message.role === 'tool');
        const chunks: LanguageModelV3StreamPart[] = [
          { type: 'text-start', id: 't' },
          ...(answered ? [{ type: 'text-delta' as const, id: 't', delta: 'end' }] : deltas.map((delta) => ({ type: 'text-delta' as const, id: 't', delta }))),
          { type: 'text-end', id: 't' },
          ...(answered ? [] : [{ type: 'tool-call' as const, toolCallId: 'call-1', toolName: 'hang', input: '{}' }]),
          { type: 'finish', finishReason: { unified: answered ? 'stop' : 'tool-calls', raw: undefined }, usage },
        ];
        // All at once, as one network read of a fast provider would deliver them.
        const stream = new ReadableStream<LanguageModelV3StreamPart>({
          start(controller) {
            for (const chunk of chunks) controller.enqueue(chunk);
            controller.close();
          },
        });
        return { stream };
      },
    });
  }

  it('joins deltas that arrive together into fewer content events, keeps every character, and sends them before the tool call', async () => {
    const deltas = Array.from({ length: 50 }, (_, index) => `w${index} `);
    const events: Array<{ event: string; data: unknown }> = [];
    const turn = { ...options(hangingTool(20), new AbortController().signal, events), model: burstThenTool(deltas) };
    expect((await runAgentTurn(startState(), turn)).kind).toBe('completed');
    const firstCall = events.findIndex((entry) => entry.event === 'tool_call');
    const before = events.slice(0, firstCall).filter((entry) => entry.event === 'content');
    expect(before.map((entry) => (entry.data as { text: string }).text).join('')).toBe(deltas.join(''));
    expect(before.length).toBeLessThan(deltas.length / 5);
  });

  it('stops the turn with the error of a content write that failed (a lost lease), writing nothing after it', async () => {
    const events: Array<{ event: string; data: unknown }> = [];
    const turn = {
      ...options(hangingTool(20), new AbortController().signal, events),
      model: burstThenTool(['a ', 'b ']),
      emit: async (event: string, data: unknown) => {
        if (event === 'content') throw new Error('lease lost');
        events.push({ event, data });
      },
    } as AgentTurnOptions;
    await expect(runAgentTurn(startState(), turn)).rejects.toThrow('lease lost');
    expect(events.filter((entry) => entry.event === 'tool_call')).toEqual([]);
  });
});
