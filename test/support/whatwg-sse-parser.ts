/** One dispatched event, as an EventSource's MessageEvent would carry it. */
export interface WhatwgSseEvent {
  type: string;
  data: string;
  /** The last event ID buffer at dispatch: it persists across events, as the spec says. */
  lastEventId: string;
}

/**
 * An event-stream parser that follows the HTML spec's "interpreting an event stream" to the letter
 * (https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation):
 * CRLF, LF or CR line ends (also split across chunks), a leading BOM, comments, fields without a
 * colon, one optional space after the colon, `id` without NULL, `retry` only as ASCII digits, data
 * lines joined by LF, empty-data events not dispatched, and an unterminated last event discarded.
 * Independent of `shared/src/sse.ts` on purpose: it checks what any conformant client would see.
 */
export function createWhatwgSseParser(onEvent: (event: WhatwgSseEvent) => void) {
  let buffer = '';
  let started = false;
  let skipLeadingLf = false;
  let eventType = '';
  let data = '';
  let lastEventId = '';
  let retryMs: number | undefined;

  const processLine = (line: string) => {
    if (line === '') {
      if (data === '') {
        eventType = '';
        return;
      }
      const text = data.endsWith('\n') ? data.slice(0, -1) : data;
      onEvent({ type: eventType || 'message', data: text, lastEventId });
      eventType = '';
      data = '';
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') eventType = value;
    else if (field === 'data') data += `${value}\n`;
    else if (field === 'id') {
      if (!value.includes('\u0000')) lastEventId = value;
    } else if (field === 'retry') {
      if (/^[0-9]+$/.test(value)) retryMs = Number(value);
    }
  };

  return {
    feed(chunk: string) {
      buffer += chunk;
      if (!started && buffer.length > 0) {
        started = true;
        if (buffer.startsWith('\uFEFF')) buffer = buffer.slice(1);
      }
      // A CR that ended the previous chunk and an LF that starts this one are one line end.
      if (skipLeadingLf && buffer.startsWith('\n')) buffer = buffer.slice(1);
      skipLeadingLf = false;
      for (;;) {
        const end = buffer.search(/[\r\n]/);
        if (end < 0) return;
        const line = buffer.slice(0, end);
        if (buffer[end] === '\r') {
          if (end + 1 === buffer.length) {
            skipLeadingLf = true;
            buffer = '';
          } else buffer = buffer.slice(buffer[end + 1] === '\n' ? end + 2 : end + 1);
        } else buffer = buffer.slice(end + 1);
        processLine(line);
      }
    },
    /** The reconnection time the stream asked for with `retry:`, if any. */
    get retryMs() {
      return retryMs;
    },
    get lastEventId() {
      return lastEventId;
    },
  };
}
