import { afterEach, describe, expect, it } from 'vitest';
import { type FakeProviderReply, type FakeProviderServer, type FakeProviderWire, startFakeProviderServer } from '../../testing/fake-provider-server.ts';
import { createAgentState } from '../agent/agent-state.ts';
import { type AgentTurnOptions, runAgentTurn } from '../agent/run-agent-turn.ts';
import { DEFAULT_SANDBOX_LIMITS } from '../sandbox/sandbox-limits.ts';
import { createModel } from './create-model.ts';
import type { ModelFailure } from './describe-model-failure.ts';
import { MAX_RETRY_AFTER_MS } from './parse-retry-after.ts';

// Each real provider (through the AI SDK's own client) against a fake speaking its wire format.
(globalThis as { AI_SDK_LOG_WARNINGS?: boolean }).AI_SDK_LOG_WARNINGS = false;
const PROVIDERS: Array<{ wire: FakeProviderWire; model: string; overloaded: { type: string; message: string } }> = [
  { wire: 'anthropic', model: 'anthropic:claude-fake', overloaded: { type: 'overloaded_error', message: 'Overloaded' } },
  { wire: 'openai-responses', model: 'openai:gpt-fake', overloaded: { type: 'server_error', message: 'The server had an error processing your request.' } },
];

let fake: FakeProviderServer | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

type Logged = { event: string; data: Record<string, unknown> };

async function run(
  provider: (typeof PROVIDERS)[number],
  replies: (index: number) => FakeProviderReply,
  overrides: Partial<AgentTurnOptions> & { idleTimeoutMs?: number } = {},
) {
  fake = await startFakeProviderServer(provider.wire, (_request, index) => replies(index));
  const { model } = createModel({ model: provider.model, baseUrl: fake.url, apiKey: 'sk-fake-key-0123456789' }, { idleTimeoutMs: overrides.idleTimeoutMs ?? 0 });
  const events: Logged[] = [];
  const waits: number[] = [];
  const failures: Array<{ failure: ModelFailure; willRetry: boolean }> = [];
  const state = createAgentState();
  state.messages.push({ role: 'user', content: 'hello' });
  const signal = overrides.signal ?? new AbortController().signal;
  const result = await runAgentTurn(state, {
    model,
    system: undefined,
    tools: new Map(),
    toolContext: { taskId: 't1', workspaceDir: '/nonexistent', env: {}, limits: DEFAULT_SANDBOX_LIMITS, signal },
    gate: () => 'run',
    emit: async (event, data) => {
      events.push({ event, data: data as Record<string, unknown> });
    },
    save: async () => {},
    redactor: { redact: (text) => text, stream: () => ({ push: (chunk) => chunk, flush: () => '' }) },
    signal,
    maxSteps: 3,
    maxRetries: 2,
    retryDelayMs: 5,
    onModelFailure: (failure, willRetry) => failures.push({ failure, willRetry }),
    wait: async (ms) => {
      waits.push(ms);
    },
    ...overrides,
  });
  return { result, events, waits, failures, state, requests: fake.requests };
}

const statuses = (events: Logged[]) => events.filter((entry) => entry.event === 'status').map((entry) => entry.data);

describe.each(PROVIDERS)('a $wire model call', (provider) => {
  it('waits the Retry-After seconds of a 429 before the next attempt', async () => {
    const { result, waits, events } = await run(provider, (index) =>
      index === 0 ? { error: { status: 429, type: 'rate_limit_error', message: 'Too many requests', headers: { 'retry-after': '7' } } } : { text: ['Hello ', 'again.'] },
    );
    expect(result).toEqual({ kind: 'completed', text: 'Hello again.' });
    expect(waits).toEqual([7000]);
    expect(statuses(events)[0]).toEqual({ status: 'retrying', message: 'The AI model is busy; trying again in 7 seconds…' });
  });

  it('waits until the HTTP-date of a 503 Retry-After, and caps a long one', async () => {
    const inTenSeconds = new Date(Date.now() + 10_000).toUTCString();
    const { result, waits } = await run(provider, (index) =>
      index === 0
        ? { error: { status: 503, type: 'overloaded_error', message: 'Overloaded', headers: { 'retry-after': inTenSeconds } } }
        : index === 1
          ? { error: { status: 429, type: 'rate_limit_error', message: 'Slow down', headers: { 'retry-after': '86400' } } }
          : { text: ['ok'] },
    );
    expect(result.kind).toBe('completed');
    // An HTTP-date has one-second resolution: the wait is what is left of those ten seconds.
    expect(waits[0]).toBeGreaterThan(8000);
    expect(waits[0]).toBeLessThanOrEqual(10_000);
    expect(waits[1]).toBe(MAX_RETRY_AFTER_MS);
  });

  it('stops waiting for a Retry-After when the turn is cancelled', async () => {
    const controller = new AbortController();
    const turn = run(provider, () => ({ error: { status: 429, type: 'rate_limit_error', message: 'Too many requests', headers: { 'retry-after': '50' } } }), {
      signal: controller.signal,
      // The real wait, so only the abort can end it.
      wait: undefined,
      emit: async (event, data) => {
        if (event === 'status' && (data as { status: string }).status === 'retrying') controller.abort(new Error('cancelled by the user'));
      },
    });
    await expect(turn).rejects.toThrow('cancelled by the user');
    expect(fake?.requests).toHaveLength(1);
  });

  it('asks clients to drop the partial text of a cut stream and keeps only the retried attempt', async () => {
    const { result, events, state } = await run(provider, (index) =>
      index === 0 ? { text: ['The first ', 'attempt ', 'was cut'], cutAfter: 2 } : { text: ['The whole ', 'answer.'] },
    );
    expect(result).toEqual({ kind: 'completed', text: 'The whole answer.' });
    // Deltas that arrive together are sent as one content event: compare the text on each side of the retry.
    const order = events.map((entry) => (entry.event === 'content' ? `content:${entry.data.text}` : `${entry.event}:${entry.data.status}`));
    const retrying = order.indexOf('status:retrying');
    expect(order.slice(retrying, retrying + 2)).toEqual(['status:retrying', 'status:processing']);
    const textOf = (entries: string[]) => entries.map((entry) => entry.replace(/^content:/, '')).join('');
    expect(order.slice(0, retrying).every((entry) => entry.startsWith('content:'))).toBe(true);
    expect(textOf(order.slice(0, retrying))).toBe('The first attempt ');
    expect(order.slice(retrying + 2).every((entry) => entry.startsWith('content:'))).toBe(true);
    expect(textOf(order.slice(retrying + 2))).toBe('The whole answer.');
    expect(statuses(events)[0]).toMatchObject({ status: 'retrying', resetContent: true, message: expect.stringMatching(/^The (AI model is unavailable|connection to the AI model was interrupted); trying again/) });
    expect(state.messages.at(-1)).toEqual({ role: 'assistant', content: [{ type: 'text', text: 'The whole answer.' }] });
  });

  it('reads an in-stream error event as a readable, retried failure', async () => {
    const { result, failures, requests } = await run(provider, () => ({ text: ['Partial'], streamError: provider.overloaded }));
    expect(result).toEqual({ kind: 'failed', code: 'MODEL_UNAVAILABLE', message: 'The AI model is unavailable right now. Please try again in a moment.' });
    expect(requests).toHaveLength(3);
    expect(failures.map((entry) => entry.willRetry)).toEqual([true, true, false]);
    expect(failures[0]!.failure.detail).toContain(provider.overloaded.message);
    expect(failures[0]!.failure.detail).not.toContain('[object Object]');
  });

  it('fails a silent model after the idle timeout, retried, not after minutes', async () => {
    const { result, requests, failures } = await run(provider, () => ({ silent: true }), { idleTimeoutMs: 100 });
    expect(result).toEqual({ kind: 'failed', code: 'MODEL_TIMEOUT', message: 'The AI model stopped responding. Please try again.' });
    expect(requests).toHaveLength(3);
    expect(failures[0]!.failure.detail).toBe('The model sent nothing for 100 ms');
  });

  it('fails at once with a configuration code when the provider rejects the key, without the key in the detail', async () => {
    const { result, requests, failures } = await run(provider, () => ({ error: { status: 401, type: 'authentication_error', message: 'invalid x-api-key sk-fake-key-0123456789' } }));
    expect(result).toMatchObject({ kind: 'failed', code: 'MODEL_NOT_CONFIGURED' });
    expect(JSON.stringify(result)).not.toMatch(/401|HTTP/);
    expect(requests).toHaveLength(1);
    expect(failures[0]!.failure.detail).toContain('HTTP 401');
    expect(failures[0]!.failure.detail).not.toContain('sk-fake-key-0123456789');
  });
});

describe('createModel for openai', () => {
  it('sends store: false unless CONCIERGE_OPENAI_STORE asks to store', async () => {
    const { requests } = await run(PROVIDERS[1]!, () => ({ text: ['ok'] }));
    expect(requests[0]!.path).toBe('/v1/responses');
    expect(requests[0]!.body.store).toBe(false);
  });
});
