import type { ServerResponse } from 'node:http';

/** Past this many bytes waiting in the socket's userland buffer, a live stream's client counts as not reading. */
export const MAX_SSE_BUFFERED_BYTES = 1024 * 1024;
/** Replayed text is written in slices this big, each waiting for the previous one to drain. */
const SLICE_CHARS = 64 * 1024;

/** Writes SSE text to a response without letting a client that does not read make the server buffer without bound. */
export interface SseWriter {
  /** Writes now (live events, heartbeats); drops the client when its buffer is already past the bound. */
  write(text: string): void;
  /** Writes in slices, waiting for the socket to drain between them (replay); drops the client that stalls. */
  writePaced(text: string): Promise<void>;
  readonly dropped: boolean;
}

/**
 * A writer whose client is dropped (socket destroyed, `onDrop` told) when it lets more than
 * `maxBufferedBytes` pile up while events are live, or when a paced write waits `stallTimeoutMs` for drain.
 */
export function createSseWriter(
  response: ServerResponse,
  options: { stallTimeoutMs: number; maxBufferedBytes?: number; onDrop: (reason: string) => void },
): SseWriter {
  const maxBuffered = options.maxBufferedBytes ?? MAX_SSE_BUFFERED_BYTES;
  let dropped = false;
  const drop = (reason: string) => {
    if (dropped) return;
    dropped = true;
    response.destroy();
    options.onDrop(reason);
  };
  const gone = () => dropped || response.destroyed || response.writableEnded;

  const waitForDrain = () =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        cleanup();
        drop('stalled');
        resolve();
      }, options.stallTimeoutMs);
      const done = () => {
        cleanup();
        resolve();
      };
      const cleanup = () => {
        clearTimeout(timer);
        response.off('drain', done).off('close', done);
      };
      response.on('drain', done).on('close', done);
    });

  return {
    write(text) {
      if (gone()) return;
      if (response.writableLength > maxBuffered) return drop('buffer');
      response.write(text);
    },
    async writePaced(text) {
      for (let start = 0; start < text.length && !gone(); start += SLICE_CHARS) {
        if (!response.write(text.slice(start, start + SLICE_CHARS))) await waitForDrain();
      }
    },
    get dropped() {
      return dropped;
    },
  };
}
