import { randomUUID } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import {
  APPROVAL_OUTCOMES,
  type ApprovalOutcome,
  type Artifact,
  type AttachedFile,
  isTerminalStatus,
  type Task,
  type TaskHistory,
  type TaskListItem,
  type TaskStatus,
} from '@concierge/shared';
import { AppError } from '../../errors/app-error.ts';
import type { TaskEventLog } from '../../events/task-event-log.ts';
import type { Logger } from '../../logging/logger.ts';
import { awaitingApproval, createAgentState, endTurn } from '../../runtime/agent/agent-state.ts';
import { redactorCache } from '../../runtime/secrets/redactor-cache.ts';
import { createFingerprintRedactor, fingerprintSecrets } from '../../runtime/secrets/secret-fingerprints.ts';
import { toSandboxLimits, toWorkspaceBudget } from '../../runtime/sandbox/sandbox-limits.ts';
import { parseAgentState, type TaskRunner } from '../../runtime/task-runner.ts';
import { checkWorkspaceBudget } from '../../runtime/workspace/check-workspace-budget.ts';
import { removeTree } from '../../runtime/workspace/remove-tree.ts';
import { openWorkspace, withWorkspace } from '../../runtime/workspace/open-workspace.ts';
import { parseWorkspacePath } from '../../runtime/workspace/parse-workspace-path.ts';
import { walkWorkspace } from '../../runtime/workspace/walk-workspace.ts';
import { WorkspaceAccessError } from '../../runtime/workspace/workspace-access-error.ts';
import type { ProjectsRepository } from '../../store/projects-repository.ts';
import type { TaskRow, TasksRepository } from '../../store/tasks-repository.ts';
import { formatAttachedFilesNote, placeUploads } from '../uploads/place-uploads.ts';
import type { StagedFile } from '../uploads/receive-multipart.ts';
import { UploadError } from '../uploads/upload-error.ts';
import { buildHistory, toTaskOutput } from '../../events/build-history.ts';
import { describeFileType } from './file-types.ts';
import { type Principal, toTaskScope } from './principal.ts';

export const MAX_MESSAGE_CHARS = 100_000;

export interface CreateTaskInput {
  message: string;
  systemPrompt?: string | undefined;
  showInHistory?: boolean | undefined;
  autoExecute?: boolean | undefined;
  env?: Record<string, string> | undefined;
  secrets?: Record<string, string> | undefined;
  files?: StagedFile[] | undefined;
}

/** An artifact opened for download: the checked descriptor, and the secrets its text must not show. */
export interface ArtifactFile {
  handle: FileHandle;
  name: string;
  size: number;
  mimeType: string;
  secretValues: string[];
}

const MAX_LISTED_ARTIFACTS = 10_000;
/**
 * Characters of paths one listing may carry: 10,000 files nested in long folder names made each listing
 * 137 MB of JSON, and 40 at once took the server's heap (red team). Past it the listing stops, marked
 * `truncated`. A path longer than MAX_LISTED_PATH_CHARS is not listed (downloads still reach it).
 */
const MAX_LISTING_CHARS = 2 * 1024 * 1024;
const MAX_LISTED_PATH_CHARS = 1024;

function conversationId(): string {
  return `${Date.now()}-${Math.random().toString(36).slice(2, 11).padEnd(9, '0')}`;
}

function parseJson<T>(raw: string | null): T | null {
  return raw === null ? null : (JSON.parse(raw) as T);
}

function toTask(row: TaskRow): Omit<Task, 'output' | 'pendingApprovals'> {
  return {
    id: row.id,
    apiKeyId: row.api_key_id,
    username: row.username,
    sessionId: row.session_id,
    conversationId: row.conversation_id,
    status: row.status as TaskStatus,
    message: row.message,
    systemPrompt: row.system_prompt,
    showInHistory: row.show_in_history === 1,
    autoExecute: row.auto_execute === 1,
    env: parseJson<Record<string, string>>(row.env),
    error: row.error,
    createdAt: row.created_at,
    startedAt: row.started_at,
    completedAt: row.completed_at,
  };
}

/** Reads of a task an approval may retry when another write got in between. */
const MAX_DECISION_ATTEMPTS = 5;

function requireMessage(message: unknown): string {
  if (typeof message !== 'string' || message.trim() === '') throw new AppError('VALIDATION_ERROR', '"message" is required and must be a non-empty string');
  if (message.length > MAX_MESSAGE_CHARS) throw new AppError('VALIDATION_ERROR', `"message" is longer than ${MAX_MESSAGE_CHARS} characters`);
  return message;
}

/** The Task Execution API's operations, independent of HTTP. */
export function createTasksService(deps: {
  tasks: TasksRepository;
  projects: ProjectsRepository;
  events: TaskEventLog;
  runner: TaskRunner;
  logger: Logger;
  /** Keys the stored fingerprints of task secrets (the server's JWT secrets); without it none are stored. */
  keyMaterial?: readonly string[];
  /** Free disk the host keeps for itself; uploads stop short of it. */
  diskReserveBytes?: number;
}) {
  const { tasks, events, runner, logger } = deps;
  const keyMaterial = deps.keyMaterial ?? [];
  // Serialises state changes per task (approve, cancel, follow-up racing each other).
  const locks = new Map<string, Promise<unknown>>();
  const withLock = <T>(taskId: string, work: () => Promise<T>): Promise<T> => {
    const result = (locks.get(taskId) ?? Promise.resolve()).then(work);
    const tail = result.catch(() => undefined);
    locks.set(taskId, tail);
    void tail.then(() => locks.get(taskId) === tail && locks.delete(taskId));
    return result;
  };

  const findTask = async (principal: Principal, id: string): Promise<TaskRow> => {
    const row = await tasks.find(id, toTaskScope(principal));
    if (!row) throw new AppError('NOT_FOUND', `Task ${id} not found`);
    return row;
  };

  /** Moves uploads into the workspace; returns the files and the note for the agent. */
  const receiveFiles = async (taskId: string, project: string, files: StagedFile[] | undefined): Promise<AttachedFile[]> => {
    if (!files || files.length === 0) return [];
    try {
      return await placeUploads(runner.workspaceDir(taskId), files, { budget: await workspaceBudget(project) });
    } catch (error) {
      // A refused archive or name is the client's 400, not a server failure.
      if (error instanceof UploadError) throw new AppError(error.code, error.message, { status: error.status });
      throw error;
    }
  };

  const workspaceBudget = async (project: string) => {
    const config = (await deps.projects.find(project))?.config;
    return toWorkspaceBudget(toSandboxLimits(config, deps.diskReserveBytes));
  };

  const userTurn = (message: string, attachedFiles: AttachedFile[]) =>
    attachedFiles.length > 0 ? `${formatAttachedFilesNote(attachedFiles)}\n\n${message}` : message;

  return {
    /**
     * Bytes an upload may stage before its body is read: the project's workspace quota for a new task,
     * what the task's workspace has free for a follow-up (call after the task's visibility is checked).
     */
    async uploadBudget(principal: Principal, taskId?: string): Promise<number> {
      const budget = await workspaceBudget(principal.project);
      if (taskId === undefined) return budget.quotaBytes;
      try {
        return (await checkWorkspaceBudget(runner.workspaceDir(taskId), budget)).bytes;
      } catch (error) {
        if (!(error instanceof WorkspaceAccessError)) throw error;
        // A full workspace takes nothing; one removed by retention starts empty.
        return error.reason === 'too_large' ? 0 : budget.quotaBytes;
      }
    },

    async create(principal: Principal, input: CreateTaskInput): Promise<{ id: string; status: 'pending' }> {
      const message = requireMessage(input.message);
      const project = await deps.projects.find(principal.project);
      const id = randomUUID();
      const workspace = runner.workspaceDir(id);
      await runner.createWorkspace(id);
      try {
        const attachedFiles = await receiveFiles(id, principal.project, input.files);
        const state = createAgentState();
        state.messages.push({ role: 'user', content: userTurn(message, attachedFiles) });
        const now = new Date().toISOString();
        const hasSecrets = Object.keys(input.secrets ?? {}).length > 0;
        await tasks.insert({
          id,
          project: principal.project,
          api_key_id: principal.kind === 'api_key' ? principal.apiKeyId : null,
          app_id: principal.kind === 'widget' ? principal.appId : null,
          end_user_id: principal.kind === 'widget' ? principal.endUserId : null,
          username: principal.kind === 'api_key' ? principal.username : principal.endUserId,
          session_id: randomUUID(),
          conversation_id: conversationId(),
          status: 'pending',
          message,
          system_prompt: input.systemPrompt ?? null,
          show_in_history: input.showInHistory === false ? 0 : 1,
          auto_execute: (input.autoExecute ?? project?.config.autoExecute ?? true) ? 1 : 0,
          env: input.env ? JSON.stringify(input.env) : null,
          has_secrets: hasSecrets ? 1 : 0,
          secret_fingerprints: hasSecrets ? fingerprintSecrets(keyMaterial, Object.values(input.secrets ?? {})) : null,
          secrets_server_id: hasSecrets ? runner.serverId : null,
          error: null,
          created_at: now,
          started_at: null,
          completed_at: null,
          last_activity_at: now,
          message_count: 1,
          state: JSON.stringify(state),
          runner_id: null,
          lease_until: null,
        });
        await events.append(id, 'user_message', {
          id: 'msg-1',
          role: 'user',
          content: message,
          createdAt: now,
          ...(attachedFiles.length ? { attachedFiles } : {}),
        });
        if (input.secrets) runner.setSecrets(id, input.secrets);
        logger.info({ taskId: id, project: principal.project, files: attachedFiles.length }, 'task created');
        runner.schedule(id);
        return { id, status: 'pending' };
      } catch (error) {
        // Nothing half-made stays behind: no row without its workspace, no workspace without its row.
        await removeTree(workspace).catch((removal: unknown) => logger.warn({ error: removal, taskId: id }, 'could not remove the workspace of a refused task'));
        throw error;
      }
    },

    async get(principal: Principal, id: string): Promise<Task> {
      const row = await findTask(principal, id);
      // Polled by clients without SSE: its cost must not grow with the conversation.
      const history = buildHistory(await events.listLatestTurn(id));
      const task: Task = { ...toTask(row) };
      const output = toTaskOutput(history.lastAssistant, row.last_activity_at);
      if (output) task.output = output;
      if (row.status === 'awaiting_approval') {
        const pending = awaitingApproval(parseAgentState(row.state)).map(({ callId, toolName, args }) => ({ callId, toolName, args }));
        if (pending.length > 0) task.pendingApprovals = pending;
      }
      return task;
    },

    async list(principal: Principal, page: { limit: number; offset: number }): Promise<{ items: TaskListItem[]; total: number }> {
      const { rows, total } = await tasks.list(toTaskScope(principal), page);
      const items = rows.map((row) => ({ ...toTask(row), lastActivityAt: row.last_activity_at, messageCount: row.message_count }));
      return { items, total };
    },

    async history(principal: Principal, id: string): Promise<TaskHistory> {
      const row = await findTask(principal, id);
      const { messages } = buildHistory(await events.list(id));
      return { taskId: row.id, conversationId: row.conversation_id, status: row.status as TaskStatus, messages };
    },

    /** Checks visibility for streaming; returns the row. */
    findForStream: findTask,

    async followUp(principal: Principal, id: string, input: { message: unknown; files?: StagedFile[] | undefined }): Promise<{ status: 'running' }> {
      const message = requireMessage(input.message);
      return withLock(id, async () => {
        const row = await findTask(principal, id);
        if (!isTerminalStatus(row.status as TaskStatus)) {
          throw new AppError('TASK_BUSY', `Task ${id} is ${row.status}; send the follow-up once it has finished`);
        }
        const attachedFiles = await receiveFiles(id, principal.project, input.files);
        const state = parseAgentState(row.state);
        state.messages.push({ role: 'user', content: userTurn(message, attachedFiles) });
        endTurn(state);
        const now = new Date().toISOString();
        const history = buildHistory(await events.list(id));
        // Decided in the database, and committed before the event that announces it: of two follow-ups
        // racing on two servers, exactly one reopens the task (the other is TASK_BUSY; its files stay
        // in the workspace's uploads/ for the next message).
        const reopened = await tasks.updateIfUnchanged(id, row, {
          status: 'pending',
          error: null,
          completed_at: null,
          last_activity_at: now,
          message_count: history.messages.length + 1,
          state: JSON.stringify(state),
        });
        if (!reopened) throw new AppError('TASK_BUSY', `Task ${id} took another message at the same moment; send this one once it has finished`);
        await events.append(id, 'user_message', {
          id: `msg-${history.messages.length + 1}`,
          role: 'user',
          content: message,
          createdAt: now,
          ...(attachedFiles.length ? { attachedFiles } : {}),
        });
        runner.schedule(id);
        return { status: 'running' as const };
      });
    },

    async approve(principal: Principal, id: string, callId: string, outcome: unknown): Promise<{ approved: boolean }> {
      if (typeof outcome !== 'string' || !APPROVAL_OUTCOMES.includes(outcome as ApprovalOutcome)) {
        throw new AppError('VALIDATION_ERROR', '"outcome" must be one of proceed_once, proceed_always, cancel');
      }
      return withLock(id, async () => {
        // Decided in the database: of two approvals racing on two servers, exactly one is taken; the
        // other reads the task again and finds the call decided (404). A read that went stale for
        // another reason (the turn saved a step) is simply read again.
        for (let attempt = 1; ; attempt++) {
          const row = await findTask(principal, id);
          const state = parseAgentState(row.state);
          // `running` too: a client may answer the live tool_call before the closing turn has set awaiting_approval.
          const call = ['awaiting_approval', 'running'].includes(row.status) ? awaitingApproval(state).find((pending) => pending.callId === callId) : undefined;
          if (!call) throw new AppError('NOT_FOUND', `No tool call ${callId} is waiting for approval on task ${id}`);
          state.decisions[callId] = outcome as ApprovalOutcome;
          if (outcome === 'proceed_always' && !state.grants.includes(call.toolName)) state.grants.push(call.toolName);
          const changes = { status: 'pending', state: JSON.stringify(state), last_activity_at: new Date().toISOString() };
          if (await tasks.updateIfUnchanged(id, row, changes)) break;
          if (attempt >= MAX_DECISION_ATTEMPTS) throw new AppError('TASK_BUSY', `Task ${id} kept changing while the approval was recorded; send it again`);
        }
        // History shows the call executing (or declined) from now on; the wire gets its tool_result next.
        await events.append(id, 'tool_decision', { callId, outcome: outcome as ApprovalOutcome });
        logger.info({ taskId: id, callId, outcome }, 'tool call decided');
        runner.schedule(id);
        return { approved: outcome !== 'cancel' };
      });
    },

    async cancel(principal: Principal, id: string): Promise<void> {
      await withLock(id, async () => {
        const before = await findTask(principal, id);
        if (isTerminalStatus(before.status as TaskStatus)) throw new AppError('TASK_NOT_ACTIVE', `Task ${id} is already ${before.status}`);
        await runner.abort(id);
        // Read again: the aborted turn may have saved a later step.
        const row = (await tasks.find(id)) ?? before;
        const state = parseAgentState(row.state);
        // Every call left open is closed on the wire and in history: a pending approval is `rejected`,
        // a call that was running is an `error` (it was stopped part-way, and may have done some of its work).
        const history = buildHistory(await events.listLatestTurn(id));
        for (const call of history.lastAssistant?.toolCalls ?? []) {
          const { callId, toolName } = call;
          if (call.status === 'awaiting_approval') {
            await events.append(id, 'tool_result', { callId, toolName, status: 'rejected', output: 'The task was cancelled.' });
          } else if (call.status === 'executing') {
            await events.append(id, 'tool_result', { callId, toolName, status: 'error', output: 'Stopped: the task was cancelled while this tool ran.' });
          }
        }
        if (state.pending.length > 0) {
          // Every tool call the model made needs an answer before the conversation can go on.
          state.messages.push({
            role: 'tool',
            content: state.pending.map((call) => ({
              type: 'tool-result' as const,
              toolCallId: call.callId,
              toolName: call.toolName,
              output: { type: 'text' as const, value: state.results.find((result) => result.callId === call.callId)?.output ?? 'Not run: the task was cancelled.' },
            })),
          });
        }
        const now = new Date().toISOString();
        state.pending = [];
        state.results = [];
        state.decisions = {};
        state.announced = [];
        endTurn(state);
        // History shows the cancelled turn as an assistant message (the one in progress, or a new one).
        const messageCount = history.messages.length + (history.lastAssistant ? 0 : 1);
        await tasks.update(id, { status: 'cancelled', completed_at: now, last_activity_at: now, message_count: messageCount, state: JSON.stringify(state), runner_id: null });
        await events.append(id, 'status', { status: 'cancelled' });
        logger.info({ taskId: id, status: 'cancelled' }, 'task cancelled');
      });
    },

    async listArtifacts(principal: Principal, id: string): Promise<{ files: Artifact[]; truncated: boolean }> {
      const row = await findTask(principal, id);
      // A command can name a file after a secret (`touch "$TOKEN.txt"`); listings show it redacted, also
      // once the secret is gone from memory (restart, TTL), through the task's stored fingerprints.
      const byValue = redactorCache.get(await runner.secretValues(row)).redact;
      const byFingerprint = createFingerprintRedactor(keyMaterial, row.secret_fingerprints);
      const redactName = (name: string) => byFingerprint(byValue(name));
      const files: Artifact[] = [];
      let chars = 0;
      let truncated = false;
      await withWorkspace(runner.workspaceDir(id), (workspace) =>
        walkWorkspace(workspace, ({ path: relative, name, stat }) => {
          if (!stat.isFile() || relative.length > MAX_LISTED_PATH_CHARS) return;
          if (files.length >= MAX_LISTED_ARTIFACTS || chars + relative.length > MAX_LISTING_CHARS) {
            truncated = true;
            return;
          }
          chars += relative.length + name.length;
          // Values by the whole path (a value may hold a `/`); fingerprints name by name (forms hold none).
          const path = byValue(relative).split('/').map(byFingerprint).join('/');
          files.push({ name: redactName(name), path, size: stat.size, ...describeFileType(name), modifiedAt: stat.mtime.toISOString() });
        }),
      ).catch((error: unknown) => {
        // A workspace removed by retention (or never made) simply holds no artifacts.
        if (!(error instanceof WorkspaceAccessError && error.reason === 'missing')) throw error;
      });
      return { files: files.sort((a, b) => a.path.localeCompare(b.path)), truncated };
    },

    /** Opens an artifact by descriptor for download; the caller must consume or close `handle`. */
    async openArtifact(principal: Principal, id: string, requested: unknown): Promise<ArtifactFile> {
      if (typeof requested !== 'string' || requested === '') throw new AppError('VALIDATION_ERROR', 'Missing path query parameter');
      const row = await findTask(principal, id);
      const notFound = () => new AppError('NOT_FOUND', `No artifact at "${requested}" in task ${id}`);
      let segments: string[];
      try {
        segments = parseWorkspacePath(requested);
      } catch {
        throw notFound();
      }
      const secretValues = await runner.secretValues(row);
      const workspace = await openWorkspace(runner.workspaceDir(id)).catch(() => {
        throw notFound();
      });
      try {
        const { handle, stat } = await workspace.openFile(segments, requested).catch((error: unknown) => {
          if (error instanceof WorkspaceAccessError) throw notFound();
          throw error;
        });
        const name = segments.at(-1) ?? requested;
        return { handle, name, size: stat.size, mimeType: describeFileType(name).mimeType, secretValues };
      } finally {
        await workspace.close();
      }
    },
  };
}

export type TasksService = ReturnType<typeof createTasksService>;
