import type {
  ApiPage,
  ApiResponse,
  ApprovalOutcome,
  Artifact,
  CreateTaskResponse,
  Task,
  TaskListItem,
} from '@concierge/shared';
import { ApiError } from './api-error.ts';
import type { TokenManager } from './token-manager.ts';

export interface ApiClientOptions {
  /** Server origin, e.g. `https://concierge.example.com`. */
  host: string;
  tokens: TokenManager;
  fetch?: typeof fetch;
}

/** Sends an authorised request; after a 401 it refreshes the token once and retries once. */
export type AuthorisedFetch = (path: string, init?: RequestInit) => Promise<Response>;

/** The Task API as the widget uses it. The only module (with task-stream.ts) that calls fetch. */
export interface ApiClient {
  authorisedFetch: AuthorisedFetch;
  createTask(message: string, files: File[]): Promise<CreateTaskResponse>;
  followUp(taskId: string, message: string, files: File[]): Promise<void>;
  getTask(taskId: string): Promise<Task>;
  listTasks(limit?: number): Promise<TaskListItem[]>;
  approve(taskId: string, callId: string, outcome: ApprovalOutcome): Promise<void>;
  cancel(taskId: string): Promise<void>;
  listArtifacts(taskId: string): Promise<Artifact[]>;
  downloadArtifact(taskId: string, path: string): Promise<Blob>;
}

function toBody(message: string, files: File[]): { body: BodyInit; headers: Record<string, string> } {
  if (files.length === 0) return { body: JSON.stringify({ message }), headers: { 'Content-Type': 'application/json' } };
  const form = new FormData();
  form.append('message', message);
  for (const file of files) form.append('files', file, file.name);
  return { body: form, headers: {} };
}

/** Creates the client; every call rejects with an ApiError. */
export function createApiClient(options: ApiClientOptions): ApiClient {
  const fetcher = options.fetch ?? ((input, init) => fetch(input, init));
  const base = `${options.host}/api/v1`;

  const send = async (path: string, init: RequestInit, token: string) => {
    const headers = new Headers(init.headers);
    headers.set('Authorization', `Bearer ${token}`);
    try {
      return await fetcher(`${base}${path}`, { ...init, headers });
    } catch (error) {
      if ((error as Error).name === 'AbortError') throw error;
      throw new ApiError('NETWORK_ERROR', 'The chat server could not be reached.');
    }
  };

  const authorisedFetch: AuthorisedFetch = async (path, init = {}) => {
    const response = await send(path, init, await options.tokens.get());
    if (response.status !== 401 || !options.tokens.canRefresh) return response;
    return send(path, init, await options.tokens.refresh());
  };

  const request = async <T>(path: string, init: RequestInit = {}): Promise<T> => {
    const response = await authorisedFetch(path, init);
    const envelope = (await response.json().catch(() => null)) as ApiResponse<T> | null;
    if (!envelope || typeof envelope !== 'object') {
      throw new ApiError('INTERNAL_ERROR', 'The chat server sent an unexpected answer.', response.status);
    }
    if (!envelope.success) throw new ApiError(envelope.error.code, envelope.error.message, response.status);
    return envelope.data;
  };

  const post = <T>(path: string, body: { body: BodyInit; headers: Record<string, string> }) =>
    request<T>(path, { method: 'POST', ...body });

  return {
    authorisedFetch,
    createTask: (message, files) => post<CreateTaskResponse>('/tasks', toBody(message, files)),
    followUp: async (taskId, message, files) => {
      await post(`/tasks/${encodeURIComponent(taskId)}/messages`, toBody(message, files));
    },
    getTask: (taskId) => request<Task>(`/tasks/${encodeURIComponent(taskId)}`),
    listTasks: async (limit = 50) => {
      const response = await authorisedFetch(`/tasks?limit=${limit}&offset=0`);
      const page = (await response.json().catch(() => null)) as ApiPage<TaskListItem> | ApiResponse<never> | null;
      if (!page?.success) {
        throw new ApiError(page?.error.code ?? 'INTERNAL_ERROR', page?.error.message ?? 'Unexpected answer.', response.status);
      }
      return page.data;
    },
    approve: async (taskId, callId, outcome) => {
      await request(`/tasks/${encodeURIComponent(taskId)}/tools/${encodeURIComponent(callId)}/approve`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ outcome }),
      });
    },
    cancel: async (taskId) => {
      await request(`/tasks/${encodeURIComponent(taskId)}`, { method: 'DELETE' });
    },
    listArtifacts: async (taskId) =>
      (await request<{ files: Artifact[] }>(`/tasks/${encodeURIComponent(taskId)}/artifacts`)).files,
    downloadArtifact: async (taskId, path) => {
      const response = await authorisedFetch(
        `/tasks/${encodeURIComponent(taskId)}/artifacts/download?path=${encodeURIComponent(path)}`,
      );
      if (!response.ok) {
        const envelope = (await response.json().catch(() => null)) as ApiResponse<never> | null;
        throw new ApiError(
          envelope && !envelope.success ? envelope.error.code : 'INTERNAL_ERROR',
          envelope && !envelope.success ? envelope.error.message : 'The download failed.',
          response.status,
        );
      }
      return response.blob();
    },
  };
}
