/** SSE framing: one `event:` line, one single-line `data:` line, then `id:` last (see docs/api.md). */
export function encodeSseEvent(event: string, data: unknown, id?: number): string {
  // JSON.stringify never emits a raw newline, so `data:` stays one line for line-based parsers.
  const idLine = id === undefined ? '' : `id: ${id}\n`;
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n${idLine}\n`;
}

export const SSE_HEARTBEAT = ':heartbeat\n\n';

export interface SseMessage {
  event: string;
  data: string;
  id?: string;
}

/**
 * Incremental SSE parser: feed it decoded text chunks, it calls `onMessage` per complete event.
 * Comment lines (`:heartbeat`) are skipped. Handles `\n` and `\r\n`.
 */
export function createSseParser(onMessage: (message: SseMessage) => void): { feed(chunk: string): void } {
  let buffer = '';
  let event = '';
  let data: string[] = [];
  let id: string | undefined;
  const dispatch = () => {
    if (data.length > 0) onMessage({ event: event || 'message', data: data.join('\n'), ...(id === undefined ? {} : { id }) });
    event = '';
    data = [];
    id = undefined;
  };
  return {
    feed(chunk: string) {
      buffer += chunk;
      let newline = buffer.indexOf('\n');
      while (newline >= 0) {
        const line = buffer.slice(0, newline).replace(/\r$/, '');
        buffer = buffer.slice(newline + 1);
        if (line === '') dispatch();
        else if (!line.startsWith(':')) {
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'event') event = value;
          else if (field === 'data') data.push(value);
          else if (field === 'id') id = value;
        }
        newline = buffer.indexOf('\n');
      }
    },
  };
}
