import { render } from 'preact';
import { act } from 'preact/test-utils';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ApiClient } from '../api/api-client.ts';
import type { TaskStreamEvent } from '../api/task-stream.ts';
import { createTranslator } from '../i18n/translate.ts';
import { createChatModel } from '../models/chat-model.ts';
import { createWidgetStorage } from '../models/widget-storage.ts';
import type { ResolvedConfig } from '../widget-config.ts';
import { App } from './app.tsx';

const config: ResolvedConfig = { host: 'https://c.test', locale: 'en', inline: false, title: 'Help' };

function setup() {
  let emit: ((event: Omit<TaskStreamEvent, 'seq'> & { seq?: number }) => void) | null = null;
  const api = {
    createTask: vi.fn(async () => ({ id: 't1', status: 'pending' as const })),
    followUp: vi.fn(async () => undefined),
    cancel: vi.fn(async () => undefined),
    approve: vi.fn(async () => undefined),
    getTask: vi.fn(),
    listTasks: vi.fn(async () => []),
    listArtifacts: vi.fn(async () => []),
    downloadArtifact: vi.fn(),
    authorisedFetch: vi.fn(async () => {
      // A stream that stays open; the test pushes events through `emit`.
      return new Response(
        new ReadableStream({
          start(controller) {
            emit = (event) => {
              const id = event.seq === undefined ? '' : `id: ${event.seq}\n`;
              controller.enqueue(new TextEncoder().encode(`event: ${event.event}\ndata: ${JSON.stringify(event.data)}\n${id}\n`));
            };
          },
        }),
        { status: 200 },
      );
    }),
  } satisfies ApiClient;
  const frames: (() => void)[] = [];
  const model = createChatModel({
    api,
    storage: createWidgetStorage('https://c.test', null),
    t: createTranslator('en'),
    requestFrame: (callback) => frames.push(callback),
    cancelFrame: () => undefined,
  });
  const host = document.createElement('div');
  document.body.append(host);
  const onClose = vi.fn();
  act(() => render(<App model={model} config={config} language="en" onClose={onClose} />, host));
  const flushFrames = () =>
    act(() => {
      for (const frame of frames.splice(0)) frame();
    });
  const send = async (text: string) => {
    const textarea = host.querySelector('textarea')!;
    await act(() => {
      textarea.value = text;
      textarea.dispatchEvent(new Event('input', { bubbles: true }));
    });
    await act(async () => {
      textarea.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
    });
  };
  const pushEvents = async (...events: (Omit<TaskStreamEvent, 'seq'> & { seq?: number })[]) => {
    for (let i = 0; i < 50 && !emit; i++) await new Promise((resolve) => setTimeout(resolve, 2));
    for (const event of events) emit!(event);
    await new Promise((resolve) => setTimeout(resolve, 20));
    flushFrames();
  };
  return { api, model, host, onClose, send, pushEvents, frames, flushFrames };
}

afterEach(() => {
  document.body.innerHTML = '';
});

const byText = (root: ParentNode, text: string) =>
  Array.from(root.querySelectorAll('button')).find((button) => button.textContent === text || button.getAttribute('aria-label') === text);

describe('App composer', () => {
  it('labels the textbox and sends on Enter, not on Shift+Enter', async () => {
    const { api, host, send } = setup();
    const textarea = host.querySelector('textarea')!;
    expect(textarea.getAttribute('aria-label')).toBe('Type your message…');
    await act(() => {
      textarea.value = 'line one';
      textarea.dispatchEvent(new Event('input', { bubbles: true }));
      textarea.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', shiftKey: true, bubbles: true }));
    });
    expect(api.createTask).not.toHaveBeenCalled();
    await send('Hello agent');
    expect(api.createTask).toHaveBeenCalledWith('Hello agent', []);
    expect(host.textContent).toContain('Hello agent');
  });

  it('disables the composer while the agent works and Stop cancels the task', async () => {
    const { api, host, send, pushEvents } = setup();
    await send('Do it');
    await pushEvents({ event: 'history_done', data: { messageCount: 1, isStreaming: true } });
    expect(host.querySelector('textarea')!.disabled).toBe(true);
    const stop = byText(host, 'Stop')!;
    expect(stop).toBeDefined();
    await act(async () => stop.click());
    expect(api.cancel).toHaveBeenCalledWith('t1');
    expect(host.querySelector('textarea')!.disabled).toBe(false);
    expect(host.textContent).toContain('This reply was stopped.');
  });

  it('streams content into one message and announces it once it is finished', async () => {
    const { host, send, pushEvents, model } = setup();
    await send('Hi');
    await pushEvents(
      { event: 'history_done', data: { messageCount: 1, isStreaming: true } },
      { event: 'content', data: { text: 'Hello **world', isPartial: true }, seq: 1 },
    );
    const log = host.querySelector('[role="log"]')!;
    expect(log.getAttribute('aria-live')).toBe('polite');
    expect(log.textContent).not.toContain('Hello');
    expect(model.announcement.value).toBe('');
    await pushEvents(
      { event: 'content', data: { text: '**', isPartial: true }, seq: 2 },
      { event: 'done', data: { finalResponse: 'Hello **world**' }, seq: 3 },
    );
    expect(log.querySelector('strong')?.textContent).toBe('world');
    // Plain text: a screen reader must not read the asterisks aloud.
    expect(model.announcement.value).toBe('Assistant: Hello world');
  });

  it('shows an approval card with three buttons and then the choice', async () => {
    const { api, host, send, pushEvents } = setup();
    await send('Run ls');
    await pushEvents(
      { event: 'history_done', data: { messageCount: 1, isStreaming: true } },
      { event: 'tool_call', data: { callId: 'c1', toolName: 'run_shell_command', status: 'awaiting_approval', args: { command: 'ls' } }, seq: 1 },
    );
    const group = host.querySelector('fieldset')!;
    expect(host.querySelector('.cc-tool-title')!.textContent).toBe('Run a command');
    expect(host.querySelector('.cc-tool-subject')!.textContent).toBe('ls');
    expect(host.textContent).not.toContain('run_shell_command');
    expect(Array.from(group.querySelectorAll('button')).map((b) => [b.textContent, b.className])).toEqual([
      ['Allow once', 'cc-button'],
      ['Deny', 'cc-button cc-secondary'],
      ['Always allow', 'cc-button cc-quiet'],
    ]);
    await act(async () => byText(group, 'Always allow')!.click());
    expect(api.approve).toHaveBeenCalledWith('t1', 'c1', 'proceed_always');
    expect(host.querySelector('fieldset')).toBeNull();
    expect(host.textContent).toContain('You always allow this.');
  });

  it('marks a call that a stop closed as stopped, not denied', async () => {
    const { host, send, pushEvents } = setup();
    await send('Run ls');
    await pushEvents(
      { event: 'history_done', data: { messageCount: 1, isStreaming: true } },
      { event: 'tool_call', data: { callId: 'c1', toolName: 'run_shell_command', status: 'awaiting_approval', args: { command: 'ls' } }, seq: 1 },
      { event: 'status', data: { status: 'cancelled' }, seq: 2 },
    );
    expect(host.querySelector('.cc-badge')!.textContent).toBe('Stopped');
    expect(host.querySelector('fieldset')).toBeNull();
    expect(host.textContent).not.toContain('Denied');
    expect(host.querySelector('.cc-interrupted')!.textContent).toBe('This reply was stopped.');
  });

  it('shows a denied call without the note written for the model', async () => {
    const { host, send, pushEvents } = setup();
    await send('Run ls');
    await pushEvents(
      { event: 'history_done', data: { messageCount: 1, isStreaming: true } },
      { event: 'tool_call', data: { callId: 'c1', toolName: 'run_shell_command', status: 'awaiting_approval', args: { command: 'ls' } }, seq: 1 },
    );
    await act(async () => byText(host.querySelector('fieldset')!, 'Deny')!.click());
    await pushEvents({
      event: 'tool_result',
      data: { callId: 'c1', toolName: 'run_shell_command', status: 'rejected', output: 'The user declined to run this tool call. Do not retry it; continue without it.' },
      seq: 2,
    });
    expect(host.textContent).toContain('You denied this.');
    expect(host.textContent).not.toContain('Do not retry');
  });

  it('puts focus in the message box when the visitor starts a new conversation', async () => {
    const { host, send, pushEvents } = setup();
    await send('hello');
    await pushEvents({ event: 'history_done', data: { messageCount: 1, isStreaming: true } }, { event: 'done', data: { finalResponse: 'hi' }, seq: 1 });
    const plus = byText(host, 'New conversation')!;
    plus.focus();
    await act(async () => plus.click());
    expect(document.activeElement).toBe(host.querySelector('textarea'));
  });

  it('closes on Escape', async () => {
    const { host, onClose } = setup();
    await act(() => {
      host.querySelector('textarea')!.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true }));
    });
    expect(onClose).toHaveBeenCalled();
  });
});

describe('createChatModel', () => {
  it('renders at most once per animation frame while streaming', async () => {
    const { send, pushEvents, model, frames } = setup();
    await send('Hi');
    const seen: number[] = [];
    const unsubscribe = model.conversation.subscribe((state) => seen.push(state.lastSeq));
    seen.length = 0;
    await pushEvents(
      { event: 'history_done', data: { messageCount: 1, isStreaming: true } },
      ...Array.from({ length: 30 }, (_, i) => ({ event: 'content' as const, data: { text: 'x', isPartial: true }, seq: i + 1 })),
    );
    expect(frames).toHaveLength(0);
    expect(seen.length).toBeLessThanOrEqual(2);
    expect(model.conversation.value.messages[1]!.content).toBe('x'.repeat(30));
    unsubscribe();
  });
});

describe('App with a long conversation', () => {
  it('keeps a streaming update cheap with 500 messages on screen', async () => {
    const { host, model, pushEvents } = setup();
    act(() => model.openConversation('t1'));
    const history = Array.from({ length: 500 }, (_, i) => ({
      event: 'history_message' as const,
      data: { id: `m${i}`, role: i % 2 ? ('assistant' as const) : ('user' as const), content: `Message **${i}**`, createdAt: '2026-01-01T00:00:00.000Z' },
    }));
    await pushEvents(...history, { event: 'history_done', data: { messageCount: 500, isStreaming: true } });
    expect(host.querySelectorAll('.cc-message')).toHaveLength(501);
    const started = performance.now();
    for (let i = 1; i <= 20; i++) await pushEvents({ event: 'content', data: { text: 'token ', isPartial: true }, seq: i });
    const perUpdateMs = (performance.now() - started) / 20;
    expect(host.querySelectorAll('.cc-message')).toHaveLength(501);
    expect(model.conversation.value.messages[499]!.content).toMatch(/token $/);
    // Includes the 20 ms wait in pushEvents; the render itself must stay well below a frame budget.
    expect(perUpdateMs).toBeLessThan(60);
  });
});
