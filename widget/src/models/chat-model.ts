import type { ApprovalOutcome, Artifact, TaskListItem } from '@concierge/shared';
import { batch, signal } from '@preact/signals';
import type { ApiClient } from '../api/api-client.ts';
import { ApiError } from '../api/api-error.ts';
import { NoTokenError } from '../api/token-manager.ts';
import type { Translate } from '../i18n/translate.ts';
import { createApprovalDecisions } from './approval-decisions.ts';
import { createConversationConnection } from './conversation-connection.ts';
import { type ChatMessage, isActivePhase } from './conversation-reducer.ts';
import { createConversationStore } from './conversation-store.ts';
import { checkFiles } from './file-limits.ts';
import { toAnnouncement } from './to-announcement.ts';
import { toErrorText } from './to-error-text.ts';
import type { WidgetStorage } from './widget-storage.ts';


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
  const draft = signal('');
  const attachments = signal<File[]>([]);
  /** Set when the visitor starts or picks a conversation: the composer takes focus once it can. */
  const composerFocus = signal(false);

  let localCount = 0;

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

  const connection = createConversationConnection({
    api,
    store,
    taskId,
    toErrorText: (error) => toErrorText(error, t),
    onGone: () => newConversation(),
    onUnavailable: () => {
      unavailable.value = true;
    },
    onError: (error) => showError(error),
    onSettled: () => void refreshDownloads(),
  });

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

  function newConversation() {
    connection.close();
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
    connection.connect(false);
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
      streaming: false,
      local: true,
    };
    batch(() => {
      notice.value = null;
      draft.value = '';
      attachments.value = [];
      dispatch({ type: 'send', message: local }, true);
    });
    connection.resetPolls();
    try {
      const id = taskId.peek();
      if (id) {
        await api.followUp(id, message, files);
        connection.resume();
      } else {
        const created = await api.createTask(message, files);
        setTaskId(created.id);
        connection.connect(false);
      }
    } catch (error) {
      if (error instanceof ApiError && error.code === 'TASK_BUSY') {
        batch(() => {
          dispatch({ type: 'unsend', id: local.id }, true);
          notice.value = t('busy');
          draft.value = text;
          attachments.value = files;
        });
        connection.resume();
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
      connection.connect(false);
    }
  };

  /** Starts the widget: reopens the remembered conversation, replaying its history. */
  const start = () => {
    if (taskId.peek()) {
      dispatch({ type: 'phase', phase: 'loading' }, true);
      connection.connect(false);
    }
  };

  const dispose = () => {
    connection.dispose();
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
    reconnecting: connection.reconnecting,
    draft,
    attachments,
    t,
    start,
    send,
    stop,
    approve,
    composerFocus,
    /** The visitor starts a new conversation (focus goes to the composer). */
    newConversation: () => {
      newConversation();
      composerFocus.value = true;
    },
    /** The visitor reopens an earlier conversation (focus goes to the composer once it has loaded). */
    openConversation: (id: string) => {
      openConversation(id);
      composerFocus.value = true;
    },
    showList,
    addFiles,
    removeFile,
    fetchDownload,
    retry,
    flush,
    dispose,
  };
}
