import { createSseParser, type SseMessage } from '@concierge/shared';

export interface StreamedEvent {
  event: string;
  data: unknown;
  id?: string;
}

/** Reads a task stream until the server closes it (or `until` says stop); returns every event. */
export async function readSse(
  url: string,
  headers: Record<string, string>,
  options: { until?: (event: StreamedEvent) => boolean; timeoutMs?: number } = {},
): Promise<StreamedEvent[]> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`stream ${url} did not end within ${options.timeoutMs ?? 20_000} ms`)), options.timeoutMs ?? 20_000);
  const events: StreamedEvent[] = [];
  let stop = false;
  try {
    const response = await fetch(url, { headers: { Accept: 'text/event-stream', ...headers }, signal: controller.signal });
    if (!response.ok || !response.body) throw new Error(`stream ${url} answered ${response.status}: ${await response.text()}`);
    const parser = createSseParser((message: SseMessage) => {
      const event: StreamedEvent = { event: message.event, data: JSON.parse(message.data), ...(message.id ? { id: message.id } : {}) };
      events.push(event);
      if (options.until?.(event)) stop = true;
    });
    const decoder = new TextDecoder();
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parser.feed(decoder.decode(value, { stream: true }));
      if (stop) {
        controller.abort();
        break;
      }
    }
  } catch (error) {
    if (!stop) throw controller.signal.aborted ? controller.signal.reason : error;
  } finally {
    clearTimeout(timer);
  }
  return events;
}
