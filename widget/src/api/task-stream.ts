import { createSseParser, isLiveEventName, isTaskEventName, isTerminalEvent, type TaskEventMap, type TaskEventName } from '@concierge/shared';
import { ApiError } from './api-error.ts';
import type { AuthorisedFetch } from './api-client.ts';

/** One parsed stream event; `seq` is the frame's `id:` (live events only). */
export type TaskStreamEvent = {
  [K in TaskEventName]: { event: K; data: TaskEventMap[K]; seq: number | undefined };
}[TaskEventName];


export const INITIAL_BACKOFF_MS = 500;
export const MAX_BACKOFF_MS = 15_000;
/** Three missed 15 s heartbeats: the connection is dead even if the socket says otherwise. */
export const HEARTBEAT_TIMEOUT_MS = 45_000;

/** Why a stream stopped for good: a terminal event, an idle task (history only, then the server closed), or an error. */
export type StreamEndReason = 'terminal' | 'idle' | 'error';

export interface TaskStreamOptions {
  taskId: string;
  authorisedFetch: AuthorisedFetch;
  /** Resume after this sequence number (sent as `Last-Event-ID`); 0 replays everything. */
  lastEventId?: number;
  onConnect(resumed: boolean): void;
  onEvent(event: TaskStreamEvent): void;
  onEnd(reason: StreamEndReason, error?: unknown): void;
  onRetry?(attempt: number, delayMs: number): void;
  random?: () => number;
}

/** Parses one frame into a known event; unknown names and bad JSON are ignored (older widget, newer server). */
export function parseStreamEvent(event: string, data: string, id: string | undefined): TaskStreamEvent | undefined {
  if (!isTaskEventName(event)) return undefined;
  let payload: unknown;
  try {
    payload = JSON.parse(data);
  } catch {
    return undefined;
  }
  if (!payload || typeof payload !== 'object') return undefined;
  // sigmic-api.md §3: some docs wrap the payload as {type, data}; accept both forms.
  const wrapped = payload as { type?: unknown; data?: unknown };
  if (wrapped.type === event && wrapped.data && typeof wrapped.data === 'object') payload = wrapped.data;
  const seq = id === undefined || id === '' ? undefined : Number(id);
  return { event, data: payload, seq: Number.isFinite(seq) ? seq : undefined } as TaskStreamEvent;
}

/** Exponential backoff with jitter: 0.5–1× of min(max, initial·2^attempt). */
export function toBackoffMs(attempt: number, random: () => number = Math.random): number {
  return Math.min(MAX_BACKOFF_MS, INITIAL_BACKOFF_MS * 2 ** attempt) * (0.5 + random() / 2);
}

const RETRYABLE_STATUSES = new Set([408, 425, 429, 500, 502, 503, 504]);

/**
 * Follows a task's SSE stream over fetch (EventSource cannot send the bearer token), reconnecting
 * with backoff and `Last-Event-ID` until a terminal event, an idle history, an error, or close().
 */
export function openTaskStream(options: TaskStreamOptions): { close(): void; readonly lastEventId: number } {
  let lastSeq = options.lastEventId ?? 0;
  let closed = false;
  let controller: AbortController | null = null;
  let sleepTimer: ReturnType<typeof setTimeout> | undefined;
  let wake: (() => void) | null = null;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      wake = resolve;
      sleepTimer = setTimeout(resolve, ms);
    });

  const connectOnce = async (): Promise<StreamEndReason | null> => {
    controller = new AbortController();
    const signal = controller.signal;
    const headers: Record<string, string> = { Accept: 'text/event-stream' };
    const resumed = lastSeq > 0;
    if (resumed) headers['Last-Event-ID'] = String(lastSeq);
    const response = await options.authorisedFetch(`/tasks/${encodeURIComponent(options.taskId)}/stream`, {
      headers,
      signal,
      cache: 'no-store',
    });
    if (!response.ok || !response.body) {
      const envelope = (await response.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
      const error = new ApiError(
        envelope?.error?.code ?? 'INTERNAL_ERROR',
        envelope?.error?.message ?? 'The conversation could not be loaded.',
        response.status,
      );
      if (RETRYABLE_STATUSES.has(response.status)) throw error;
      options.onEnd('error', error);
      return 'error';
    }
    options.onConnect(resumed);
    let end: StreamEndReason | null = null;
    // An idle history_done is not the end: a follow-up that began meanwhile streams right after it.
    let idle = false;
    const parser = createSseParser((message) => {
      if (end) return;
      const event = parseStreamEvent(message.event, message.data, message.id);
      if (!event) return;
      if (event.seq !== undefined) {
        // History events carry the last sequence they cover (history_done shares its last message's): only live ones repeat.
        if (event.seq <= lastSeq && isLiveEventName(event.event)) return;
        lastSeq = Math.max(lastSeq, event.seq);
      }
      attempt = 0;
      options.onEvent(event);
      if (isTerminalEvent(event)) end = 'terminal';
      else if (event.event === 'history_done') idle = !event.data.isStreaming;
      else if (event.event !== 'history_message') idle = false;
    });
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let watchdog: ReturnType<typeof setTimeout> | undefined;
    const arm = () => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => controller?.abort(), HEARTBEAT_TIMEOUT_MS);
    };
    try {
      arm();
      while (!end) {
        const { value, done } = await reader.read();
        if (done) {
          // Closed right after an idle history: nothing more is coming; otherwise reconnect and resume.
          if (idle) end = 'idle';
          break;
        }
        arm();
        parser.feed(value);
      }
    } finally {
      clearTimeout(watchdog);
      if (end) void reader.cancel().catch(() => undefined);
    }
    return end;
  };

  let attempt = 0;
  const run = async () => {
    while (!closed) {
      try {
        const end = await connectOnce();
        if (closed) return;
        if (end === 'error') return;
        if (end) {
          options.onEnd(end);
          return;
        }
      } catch (error) {
        if (closed) return;
        const retryable =
          (error as Error).name === 'AbortError' ||
          error instanceof TypeError ||
          (error instanceof ApiError && (error.code === 'NETWORK_ERROR' || RETRYABLE_STATUSES.has(error.status)));
        if (!retryable) {
          options.onEnd('error', error);
          return;
        }
      }
      const delay = toBackoffMs(attempt, options.random);
      attempt += 1;
      options.onRetry?.(attempt, delay);
      await sleep(delay);
    }
  };
  void run();

  return {
    close() {
      if (closed) return;
      closed = true;
      controller?.abort();
      clearTimeout(sleepTimer);
      wake?.();
    },
    get lastEventId() {
      return lastSeq;
    },
  };
}
