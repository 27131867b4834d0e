import type { ApprovalOutcome, Artifact, TaskListItem } from '@concierge/shared';
import { isTerminalStatus } from '@concierge/shared';
import { batch, signal } from '@preact/signals';
import type { ApiClient } from '../api/api-client.ts';
import { ApiError } from '../api/api-error.ts';
import { openTaskStream, type StreamEndReason } from '../api/task-stream.ts';
import { NoTokenError } from '../api/token-manager.ts';
import type { Translate } from '../i18n/translate.ts';
import { createApprovalDecisions } from './approval-decisions.ts';
import { type ChatMessage, isActivePhase } from './conversation-reducer.ts';
import { createConversationStore } from './conversation-store.ts';
import { checkFiles } from './file-limits.ts';
import { toAnnouncement } from './to-announcement.ts';
import { toErrorText } from './to-error-text.ts';
import type { WidgetStorage } from './widget-storage.ts';

/** How often to look again when a new task has not started streaming yet. */
const PENDING_POLL_MS = 700;
const MAX_PENDING_POLLS = 40;

export interface ChatModelOptions {
  api: ApiClient;
  storage: WidgetStorage;
  t: Translate;
  /** One flush per animation frame while streaming; injectable for tests. */
  requestFrame?: (callback: () => void) => number;
  cancelFrame?: (handle: number) => void;
}

/**
 * One widget instance: the conversation store, the approval decisions and the stream connection, plus the
 * actions the components call. Derived state (busy, the streaming reply, ...) lives on `store`.
 */
export type ChatModel = ReturnType<typeof createChatModel>;

/** Creates the model; `dispose()` closes the stream and drops pending frames and timers. */
export function createChatModel(options: ChatModelOptions) {
  const { api, storage, t } = options;
  const announcement = signal('');
  const store = createConversationStore({
    ...(options.requestFrame ? { requestFrame: options.requestFrame } : {}),
    ...(options.cancelFrame ? { cancelFrame: options.cancelFrame } : {}),
    onTransition(previous, next) {
      const text = toAnnouncement(previous, next, t);
      if (text) announcement.value = text;
    },
  });
  const { conversation, dispatch, flush } = store;
  const taskId = signal<string | null>(storage.getTaskId());
  const approvals = createApprovalDecisions(storage, taskId);
  const view = signal<'chat' | 'list'>('chat');
  const tasks = signal<TaskListItem[] | null>(null);
  const notice = signal<string | null>(null);
  const downloads = signal<Artifact[]>([]);
  const unavailable = signal(false);
  const reconnecting = signal(false);
  const draft = signal('');
  const attachments = signal<File[]>([]);

  let stream: ReturnType<typeof openTaskStream> | null = null;
  let pollTimer: ReturnType<typeof setTimeout> | undefined;
  let polls = 0;
  let localCount = 0;
  let disposed = false;

  const showError = (error: unknown, key: 'sendFailed' | 'actionFailed' | 'downloadFailed' = 'actionFailed') => {
    if (error instanceof NoTokenError) {
      unavailable.value = true;
      return;
    }
    notice.value = t(key, { message: toErrorText(error, t) });
  };

  const setTaskId = (id: string | null) => {
    taskId.value = id;
    storage.setTaskId(id);
  };

  const refreshDownloads = async () => {
    const id = taskId.peek();
    if (!id) return;
    try {
      const files = await api.listArtifacts(id);
      if (taskId.peek() === id) downloads.value = files.filter((file) => file.path.startsWith('downloads/'));
    } catch {
      // The list is a convenience; the conversation itself still stands.
    }
  };

  const onStreamEnd = async (id: string, reason: StreamEndReason, error?: unknown) => {
    reconnecting.value = false;
    flush();
    if (disposed || taskId.peek() !== id) return;
    if (reason === 'terminal') {
      void refreshDownloads();
      return;
    }
    if (reason === 'error') {
      if (error instanceof ApiError && error.code === 'NOT_FOUND') {
        // The remembered conversation is gone (or belongs to another visitor): start afresh.
        newConversation();
        return;
      }
      if (error instanceof NoTokenError || (error instanceof ApiError && error.status === 401)) {
        unavailable.value = true;
        return;
      }
      dispatch({ type: 'phase', phase: 'failed', error: { message: toErrorText(error, t), code: 'STREAM' } }, true);
      return;
    }
    // History only: either the task is idle, or a task we just started has not begun yet.
    try {
      const task = await api.getTask(id);
      if (disposed || taskId.peek() !== id) return;
      if (!isTerminalStatus(task.status) && isActivePhase(store.current().phase) && polls < MAX_PENDING_POLLS) {
        polls += 1;
        pollTimer = setTimeout(() => connect(store.current().lastSeq > 0), PENDING_POLL_MS);
        return;
      }
      if (task.status === 'failed' && store.current().phase !== 'failed') {
        dispatch({ type: 'phase', phase: 'failed', error: { message: task.error ?? '', code: 'TASK_FAILED' } }, true);
      } else if (task.status === 'cancelled' && store.current().phase !== 'cancelled') {
        dispatch({ type: 'phase', phase: 'cancelled' }, true);
      } else if (isActivePhase(store.current().phase) && isTerminalStatus(task.status)) {
        dispatch({ type: 'phase', phase: 'completed' }, true);
      }
    } catch (caught) {
      showError(caught);
    }
    void refreshDownloads();
  };

  /** (Re)opens the current task's stream; resume sends Last-Event-ID so nothing is replayed twice. */
  function connect(resume: boolean) {
    clearTimeout(pollTimer);
    stream?.close();
    const id = taskId.peek();
    if (!id || disposed) return;
    stream = openTaskStream({
      taskId: id,
      authorisedFetch: api.authorisedFetch,
      lastEventId: resume ? store.current().lastSeq : 0,
      onConnect: (resumed) => {
        reconnecting.value = false;
        dispatch({ type: 'connect', resumed });
      },
      onEvent: (event) => {
        if (event.event !== 'history_message') polls = 0;
        dispatch({ type: 'event', event });
      },
      onEnd: (reason, error) => void onStreamEnd(id, reason, error),
      onRetry: () => {
        reconnecting.value = true;
      },
    });
  }

  function newConversation() {
    stream?.close();
    stream = null;
    clearTimeout(pollTimer);
    batch(() => {
      setTaskId(null);
      downloads.value = [];
      notice.value = null;
      view.value = 'chat';
      dispatch({ type: 'reset' }, true);
    });
  }

  const openConversation = (id: string) => {
    newConversation();
    setTaskId(id);
    dispatch({ type: 'phase', phase: 'loading' }, true);
    connect(false);
  };

  const send = async (): Promise<void> => {
    const text = draft.peek().trim();
    const files = attachments.peek();
    if ((!text && files.length === 0) || isActivePhase(store.current().phase) || store.current().phase === 'loading') return;
    const message = text || t('filesOnly');
    localCount += 1;
    const local: ChatMessage = {
      id: `local-${localCount}`,
      role: 'user',
      content: message,
      createdAt: new Date().toISOString(),
      ...(files.length ? { attachedFiles: files.map((file) => ({ name: file.name, path: `uploads/${file.name}` })) } : {}),
      thoughts: [],
      toolCalls: [],
      streaming: false,
      local: true,
    };
    batch(() => {
      notice.value = null;
      draft.value = '';
      attachments.value = [];
      dispatch({ type: 'send', message: local }, true);
    });
    polls = 0;
    try {
      const id = taskId.peek();
      if (id) {
        await api.followUp(id, message, files);
        connect(store.current().lastSeq > 0);
      } else {
        const created = await api.createTask(message, files);
        setTaskId(created.id);
        connect(false);
      }
    } catch (error) {
      if (error instanceof ApiError && error.code === 'TASK_BUSY') {
        batch(() => {
          dispatch({ type: 'unsend', id: local.id }, true);
          notice.value = t('busy');
          draft.value = text;
          attachments.value = files;
        });
        connect(store.current().lastSeq > 0);
        return;
      }
      batch(() => {
        dispatch({ type: 'unsend', id: local.id });
        dispatch({ type: 'phase', phase: store.current().messages.length ? 'idle' : 'empty' }, true);
        draft.value = text;
        attachments.value = files;
        showError(error, 'sendFailed');
      });
    }
  };

  const stop = async () => {
    const id = taskId.peek();
    if (!id) return;
    try {
      await api.cancel(id);
      dispatch({ type: 'phase', phase: 'cancelled' }, true);
    } catch (error) {
      showError(error);
    }
  };

  const approve = async (callId: string, outcome: ApprovalOutcome) => {
    const id = taskId.peek();
    if (!id || approvals.has(id, callId)) return;
    approvals.remember(id, callId, outcome);
    try {
      await api.approve(id, callId, outcome);
    } catch (error) {
      approvals.remember(id, callId, null);
      showError(error);
    }
  };

  const showList = async () => {
    view.value = 'list';
    tasks.value = null;
    try {
      tasks.value = (await api.listTasks(50)).filter((task) => task.showInHistory);
    } catch (error) {
      tasks.value = [];
      showError(error);
    }
  };

  const addFiles = (files: readonly File[]) => {
    const checked = checkFiles(attachments.peek(), files, t);
    batch(() => {
      attachments.value = checked.files;
      notice.value = checked.error;
    });
  };

  const removeFile = (file: File) => {
    attachments.value = attachments.peek().filter((candidate) => candidate !== file);
  };

  const fetchDownload = async (file: Artifact): Promise<Blob | null> => {
    const id = taskId.peek();
    if (!id) return null;
    try {
      return await api.downloadArtifact(id, file.path);
    } catch (error) {
      showError(error, 'downloadFailed');
      return null;
    }
  };

  const retry = () => {
    unavailable.value = false;
    notice.value = null;
    if (taskId.peek()) {
      dispatch({ type: 'phase', phase: 'loading' }, true);
      connect(false);
    }
  };

  /** Starts the widget: reopens the remembered conversation, replaying its history. */
  const start = () => {
    if (taskId.peek()) {
      dispatch({ type: 'phase', phase: 'loading' }, true);
      connect(false);
    }
  };

  const dispose = () => {
    disposed = true;
    stream?.close();
    clearTimeout(pollTimer);
    store.dispose();
  };

  return {
    conversation,
    store,
    taskId,
    view,
    tasks,
    notice,
    announcement,
    /** The open conversation's approval decisions by call id. */
    decisions: approvals.current,
    downloads,
    unavailable,
    reconnecting,
    draft,
    attachments,
    t,
    start,
    send,
    stop,
    approve,
    newConversation,
    openConversation,
    showList,
    addFiles,
    removeFile,
    fetchDownload,
    retry,
    flush,
    dispose,
  };
}
