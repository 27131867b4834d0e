import { isTerminalStatus } from '@concierge/shared';
import { signal } from '@preact/signals';
import type { ApiClient } from '../api/api-client.ts';
import { ApiError } from '../api/api-error.ts';
import { openTaskStream, type StreamEndReason } from '../api/task-stream.ts';
import { NoTokenError } from '../api/token-manager.ts';
import { isActivePhase } from './conversation-reducer.ts';
import type { ConversationStore } from './conversation-store.ts';

/** How often to look again when a new task has not started streaming yet. */
const PENDING_POLL_MS = 700;
const MAX_PENDING_POLLS = 40;

export interface ConversationConnectionOptions {
  api: ApiClient;
  store: ConversationStore;
  taskId: { peek(): string | null };
  /** Turns an error into the sentence the visitor reads. */
  toErrorText(error: unknown): string;
  /** The task is gone or belongs to someone else: start a new conversation. */
  onGone(): void;
  /** No token can be had: show the unavailable state. */
  onUnavailable(): void;
  /** A request besides the stream failed (the task lookup after an idle history). */
  onError(error: unknown): void;
  /** The stream ended with the task at rest: time to refresh the downloads. */
  onSettled(): void;
}

/** The current task's stream into the store: resume with Last-Event-ID, end reasons, and polling a task that has not started. */
export type ConversationConnection = ReturnType<typeof createConversationConnection>;

/** Creates the connection; `close()` stops the stream and any poll, `dispose()` also refuses to connect again. */
export function createConversationConnection(options: ConversationConnectionOptions) {
  const { api, store, taskId } = options;
  const reconnecting = signal(false);
  let stream: ReturnType<typeof openTaskStream> | null = null;
  let pollTimer: ReturnType<typeof setTimeout> | undefined;
  let polls = 0;
  let disposed = false;

  const onStreamEnd = async (id: string, reason: StreamEndReason, error?: unknown) => {
    reconnecting.value = false;
    store.flush();
    if (disposed || taskId.peek() !== id) return;
    if (reason === 'terminal') return options.onSettled();
    if (reason === 'error') {
      if (error instanceof ApiError && error.code === 'NOT_FOUND') return options.onGone();
      if (error instanceof NoTokenError || (error instanceof ApiError && error.status === 401)) return options.onUnavailable();
      store.dispatch({ type: 'phase', phase: 'failed', error: { message: options.toErrorText(error), code: 'STREAM' } }, true);
      return;
    }
    // History only, then the server closed: either the task is idle, or a task we just started has not begun yet.
    try {
      const task = await api.getTask(id);
      if (disposed || taskId.peek() !== id) return;
      const phase = store.current().phase;
      if (!isTerminalStatus(task.status) && isActivePhase(phase) && polls < MAX_PENDING_POLLS) {
        polls += 1;
        pollTimer = setTimeout(() => connect(store.current().lastSeq > 0), PENDING_POLL_MS);
        return;
      }
      if (task.status === 'failed' && phase !== 'failed') {
        store.dispatch({ type: 'phase', phase: 'failed', error: { message: task.error ?? '', code: 'TASK_FAILED' } }, true);
      } else if (task.status === 'cancelled' && phase !== 'cancelled') {
        store.dispatch({ type: 'phase', phase: 'cancelled' }, true);
      } else if (isActivePhase(phase) && isTerminalStatus(task.status)) {
        store.dispatch({ type: 'phase', phase: 'completed' }, true);
      }
    } catch (caught) {
      options.onError(caught);
    }
    options.onSettled();
  };

  const close = () => {
    stream?.close();
    stream = null;
    clearTimeout(pollTimer);
  };

  /** (Re)opens the current task's stream; resume sends Last-Event-ID so nothing is replayed twice. */
  function connect(resume: boolean) {
    close();
    const id = taskId.peek();
    if (!id || disposed) return;
    stream = openTaskStream({
      taskId: id,
      authorisedFetch: api.authorisedFetch,
      lastEventId: resume ? store.current().lastSeq : 0,
      onConnect: (resumed) => {
        reconnecting.value = false;
        store.dispatch({ type: 'connect', resumed });
      },
      onEvent: (event) => {
        if (event.event !== 'history_message') polls = 0;
        store.dispatch({ type: 'event', event });
      },
      onEnd: (reason, error) => void onStreamEnd(id, reason, error),
      onRetry: () => {
        reconnecting.value = true;
      },
    });
  }

  return {
    /** The stream dropped and is being reopened. */
    reconnecting,
    connect,
    /** Resumes after the last applied event when there is one, else replays the history. */
    resume: () => connect(store.current().lastSeq > 0),
    /** A new message was sent: a task that has not started yet gets its full share of polls again. */
    resetPolls: () => {
      polls = 0;
    },
    close,
    dispose() {
      disposed = true;
      close();
    },
  };
}
