import type { ServerResponse } from 'node:http';

/** Past this many bytes waiting in the socket's userland buffer, a live stream's client must drain within the stall timeout. */
export const SOFT_SSE_BUFFERED_BYTES = 1024 * 1024;
/**
 * A client this far behind is dropped at once, without waiting for the stall timeout: silent clients of
 * a busy task each held ~11 MB for 30 s (red team). A reader that keeps up is never near it; a tool
 * result keeps at most 256 KB and a reply reaches the client in small chunks.
 */
export const HARD_SSE_BUFFERED_BYTES = 8 * 1024 * 1024;
/** Replayed text is written in slices this big, each waiting for the previous one to drain. */
const SLICE_CHARS = 64 * 1024;

/** Writes SSE text to a response without letting a client that does not read make the server buffer without bound. */
export interface SseWriter {
  /** Writes now (live events, heartbeats); a client behind by more than the soft bound must make progress within the stall timeout. */
  write(text: string): void;
  /** Writes in slices, waiting for the socket to drain between them (replay); drops the client that stalls. */
  writePaced(text: string): Promise<void>;
  readonly dropped: boolean;
}

/**
 * A writer whose client is dropped (socket destroyed, `onDrop` told) when, once behind, it takes no bytes for
 * `stallTimeoutMs`. No byte bound: one event (`done` carries the whole reply) may be larger than any sane one.
 */
export function createSseWriter(
  response: ServerResponse,
  options: { stallTimeoutMs: number; onDrop: (reason: string) => void; hardBufferedBytes?: number },
): SseWriter {
  let dropped = false;
  let stallTimer: NodeJS.Timeout | undefined;
  const clearStall = () => {
    clearTimeout(stallTimer);
    stallTimer = undefined;
  };
  response.on('drain', clearStall).on('close', clearStall);
  // Behind but still taking bytes is a slow reader, not a stalled one: only a whole timeout without progress drops it.
  // bytesWritten counts bytes still queued in userland too; what the kernel took is that minus the queue.
  const flushed = () => (response.socket ? response.socket.bytesWritten - response.socket.writableLength : 0);
  const watchProgress = () => {
    const before = flushed();
    stallTimer = setTimeout(() => {
      stallTimer = undefined;
      if (flushed() === before) drop('stalled');
      else if (response.writableLength > SOFT_SSE_BUFFERED_BYTES) watchProgress();
    }, options.stallTimeoutMs);
    stallTimer.unref();
  };
  const drop = (reason: string) => {
    if (dropped) return;
    dropped = true;
    clearStall();
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
      if (response.writableLength > (options.hardBufferedBytes ?? HARD_SSE_BUFFERED_BYTES)) return drop('too far behind');
      // A burst can put a reading client behind for a moment; one that does not catch up in time is not reading.
      if (response.writableLength > SOFT_SSE_BUFFERED_BYTES && !stallTimer) watchProgress();
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
