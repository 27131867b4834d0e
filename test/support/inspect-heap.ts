import WebSocket from 'ws';

/**
 * A connection to a Node process's inspector (started with `--inspect=127.0.0.1:0`) that reads how much
 * memory is live: a full collection first, then the heap and off-heap bytes still held. Unlike RSS this
 * does not count garbage the collector has not got to yet, so a bound on it measures what is kept.
 */
export interface HeapInspector {
  /** Collects garbage, then returns `heapUsed + external` of the process, in bytes. */
  liveBytes(): Promise<number>;
  close(): void;
}

/** Waits for the "Debugger listening on ws://…" line among the process's output lines. */
async function inspectorUrl(lines: readonly string[]): Promise<string> {
  for (let waited = 0; waited < 200; waited++) {
    for (const line of lines) {
      const match = /Debugger listening on (ws:\/\/\S+)/.exec(line);
      if (match) return match[1]!;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('the process printed no inspector address (was it started with --inspect?)');
}

export async function connectHeapInspector(lines: readonly string[]): Promise<HeapInspector> {
  const socket = new WebSocket(await inspectorUrl(lines));
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  let nextId = 1;
  const waiting = new Map<number, { resolve: (result: unknown) => void; reject: (error: Error) => void }>();
  socket.on('message', (raw) => {
    const message = JSON.parse(String(raw)) as { id?: number; result?: unknown; error?: { message: string } };
    const pending = message.id === undefined ? undefined : waiting.get(message.id);
    if (!pending) return;
    waiting.delete(message.id!);
    if (message.error) pending.reject(new Error(message.error.message));
    else pending.resolve(message.result);
  });
  const call = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<unknown>((resolve, reject) => {
      const id = nextId++;
      waiting.set(id, { resolve, reject });
      socket.send(JSON.stringify({ id, method, params }));
    });

  return {
    async liveBytes() {
      await call('HeapProfiler.collectGarbage');
      const { result } = (await call('Runtime.evaluate', {
        expression: 'JSON.stringify(process.memoryUsage())',
        returnByValue: true,
      })) as { result: { value: string } };
      const usage = JSON.parse(result.value) as NodeJS.MemoryUsage;
      return usage.heapUsed + usage.external;
    },
    close: () => socket.close(),
  };
}
