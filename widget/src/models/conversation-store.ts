import { computed, signal } from '@preact/signals';
import {
  type ConversationAction,
  type ConversationState,
  createConversationState,
  isActivePhase,
  reduceConversation,
} from './conversation-reducer.ts';

export interface ConversationStoreOptions {
  /** One flush per animation frame while streaming; injectable for tests. */
  requestFrame?: (callback: () => void) => number;
  cancelFrame?: (handle: number) => void;
  /** Sees every applied transition at once (announcements), before the view does. */
  onTransition?(previous: ConversationState, next: ConversationState): void;
}

/** The conversation state behind the reducer, painted at most once per frame, with what the view derives from it. */
export type ConversationStore = ReturnType<typeof createConversationStore>;

/** Creates the store; `dispose()` drops a pending frame. */
export function createConversationStore(options: ConversationStoreOptions = {}) {
  const requestFrame =
    options.requestFrame ??
    ((callback: () => void) =>
      typeof requestAnimationFrame === 'function' ? requestAnimationFrame(callback) : Number(setTimeout(callback, 16)));
  const cancelFrame =
    options.cancelFrame ??
    ((handle: number) => (typeof cancelAnimationFrame === 'function' ? cancelAnimationFrame(handle) : clearTimeout(handle)));

  const conversation = signal<ConversationState>(createConversationState());
  let state = conversation.peek();
  let frame = 0;

  const flush = () => {
    if (frame) cancelFrame(frame);
    frame = 0;
    conversation.value = state;
  };

  /** Applies an action; the view sees it on the next animation frame (or now, for user actions). */
  const dispatch = (action: ConversationAction, immediate = false) => {
    const next = reduceConversation(state, action);
    if (next === state) return;
    const previous = state;
    state = next;
    options.onTransition?.(previous, next);
    if (immediate) flush();
    else if (!frame) {
      frame = requestFrame(() => {
        frame = 0;
        conversation.value = state;
      });
    }
  };

  const phase = computed(() => conversation.value.phase);
  /** The agent works or the history loads: the composer is disabled. */
  const busy = computed(() => isActivePhase(phase.value) || phase.value === 'loading');
  /** The reply being written, shown outside the live region until it is finished. */
  const streamingMessage = computed(() => {
    const last = conversation.value.messages.at(-1);
    return last?.streaming ? last : null;
  });
  const finishedMessages = computed(() => {
    const { messages } = conversation.value;
    return streamingMessage.value ? messages.slice(0, -1) : messages;
  });
  /** The failure or stop the phase reports when no message shows it (a stream error, a task failed before any event). */
  const unshownEnd = computed(() => {
    const { phase: current, messages, error } = conversation.value;
    if (current !== 'failed' && current !== 'cancelled') return null;
    if (messages.at(-1)?.interrupted) return null;
    return { reason: current, message: error?.message || error?.code || '' };
  });

  return {
    conversation,
    phase,
    busy,
    streamingMessage,
    finishedMessages,
    unshownEnd,
    dispatch,
    flush,
    /** The latest state, including changes not painted yet. */
    current: () => state,
    dispose() {
      if (frame) cancelFrame(frame);
      frame = 0;
    },
  };
}
