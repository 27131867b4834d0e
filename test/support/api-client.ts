import { readSse, type StreamedEvent } from '../../server/src/testing/read-sse.ts';
import type { Task, TaskStatus } from '../../shared/src/index.ts';

export type { StreamedEvent };

/** A parsed HTTP answer: status, headers and the JSON body (or the text when it is not JSON). */
export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

/** Sends one request and parses the answer; `body` objects go as JSON, FormData as multipart, strings raw. */
export async function request<T = any>(url: string, init: { method?: string; headers?: Record<string, string>; body?: unknown } = {}): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...init.headers };
  let body: BodyInit | undefined;
  if (init.body instanceof FormData || typeof init.body === 'string' || init.body instanceof Uint8Array) body = init.body as BodyInit;
  else if (init.body !== undefined) {
    body = JSON.stringify(init.body);
    headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(url, { method: init.method ?? 'GET', headers, ...(body === undefined ? {} : { body }) });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON (an artifact download): keep the text.
  }
  return { status: response.status, headers: response.headers, body: parsed as T };
}

/** Task API calls with one API key, plus helpers that wait for a task to reach a state. */
export function createApiClient(baseUrl: string, apiKey: string) {
  const auth = { authorization: `Bearer ${apiKey}` };
  const api = (path: string) => `${baseUrl}/api/v1${path}`;
  const client = {
    auth,
    api,
    call<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
      return request<T>(api(path), { method, headers: { ...auth, ...headers }, body });
    },
    /** POST /tasks; throws unless it answers 200, returns the task id. */
    async createTask(body: Record<string, unknown> | FormData): Promise<string> {
      const response = await client.call('POST', '/tasks', body);
      if (response.status !== 200) throw new Error(`POST /tasks answered ${response.status}: ${JSON.stringify(response.body)}`);
      return response.body.data.id as string;
    },
    async getTask(id: string): Promise<Task> {
      const response = await client.call('GET', `/tasks/${id}`);
      if (response.status !== 200) throw new Error(`GET /tasks/${id} answered ${response.status}: ${JSON.stringify(response.body)}`);
      return response.body.data as Task;
    },
    /** Polls GET /tasks/{id} until its status is one of `statuses`. */
    async waitForStatus(id: string, statuses: TaskStatus | TaskStatus[], timeoutMs = 20_000): Promise<Task> {
      const wanted = Array.isArray(statuses) ? statuses : [statuses];
      const deadline = Date.now() + timeoutMs;
      let task = await client.getTask(id);
      while (!wanted.includes(task.status)) {
        if (Date.now() > deadline) throw new Error(`task ${id} is ${task.status}, not ${wanted.join('/')}, after ${timeoutMs} ms (error: ${task.error})`);
        await new Promise((resolve) => setTimeout(resolve, 25));
        task = await client.getTask(id);
      }
      return task;
    },
    /** Reads the task's SSE stream until the server closes it (or `until` returns true). */
    stream(id: string, options: { query?: string; headers?: Record<string, string>; until?: (event: StreamedEvent) => boolean; timeoutMs?: number } = {}) {
      return readSse(api(`/tasks/${id}/stream${options.query ?? ''}`), { ...auth, ...options.headers }, {
        ...(options.until ? { until: options.until } : {}),
        timeoutMs: options.timeoutMs ?? 20_000,
      });
    },
  };
  return client;
}

export type ApiClient = ReturnType<typeof createApiClient>;

/** The live (non-history) events of a stream, as `[event, data]` pairs. */
export function liveEvents(events: StreamedEvent[]): StreamedEvent[] {
  return events.filter((event) => event.event !== 'history_message' && event.event !== 'history_done');
}

/** The concatenated text of the partial `content` events. */
export function streamedText(events: StreamedEvent[]): string {
  return events
    .filter((event) => event.event === 'content' && (event.data as { isPartial: boolean }).isPartial)
    .map((event) => (event.data as { text: string }).text)
    .join('');
}
