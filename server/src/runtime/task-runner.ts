import fs from 'node:fs/promises';
import path from 'node:path';
import type { LanguageModelV3 } from '@ai-sdk/provider';
import type { TaskEventLog } from '../events/task-event-log.ts';
import type { Logger } from '../logging/logger.ts';
import { secretRegistry } from '../logging/secret-registry.ts';
import { type ProjectConfig, toSandboxLimits } from '../services/projects/project-config.ts';
import type { ProjectsRepository } from '../store/projects-repository.ts';
import type { TaskRow, TasksRepository } from '../store/tasks-repository.ts';
import { type AgentState, createAgentState } from './agent/agent-state.ts';
import { runAgentTurn, type TextRedactor } from './agent/run-agent-turn.ts';
import { decideToolGate } from './agent/tool-policy.ts';
import type { ToolDefinition } from './tools/tool.ts';

export interface TaskRunnerOptions {
  tasks: TasksRepository;
  projects: ProjectsRepository;
  events: TaskEventLog;
  logger: Logger;
  /** The model for a project (its own `model` setting, else the server's). */
  resolveModel(projectModel: string | undefined): LanguageModelV3;
  // biome-ignore lint/suspicious/noExplicitAny: tools have heterogeneous argument types.
  tools: ReadonlyMap<string, ToolDefinition<any>>;
  createRedactor(secretValues: string[]): TextRedactor;
  /** Extra env and secrets for a task beyond its own (the widget end user's), merged under the task's. */
  resolveContext?(task: TaskRow): Promise<{ env: Record<string, string>; secrets: Record<string, string> }>;
  workspacesDir: string;
  maxConcurrent: number;
  maxSteps: number;
  maxRetries: number;
  retryDelayMs: number;
}

/** Runs task turns in the background: a queue with a concurrency limit, cancellation by AbortSignal. */
export interface TaskRunner {
  /** Queues a turn of the task (after create, follow-up or approval). */
  schedule(taskId: string): void;
  /** Keeps a task's secrets in memory for its life (never stored). */
  setSecrets(taskId: string, secrets: Record<string, string>): void;
  hasSecrets(taskId: string): boolean;
  /** Stops the task's running turn, if any; resolves once it has stopped. */
  abort(taskId: string): Promise<void>;
  forget(taskId: string): void;
  /** Resumes or fails tasks left unfinished by a previous process. */
  recover(): Promise<void>;
  workspaceDir(taskId: string): string;
  readonly activeCount: number;
  /** Stops accepting work, aborts nothing, waits for running turns up to `timeoutMs`. */
  drain(timeoutMs: number): Promise<void>;
}

export function parseAgentState(raw: string): AgentState {
  return { ...createAgentState(), ...(JSON.parse(raw) as Partial<AgentState>) };
}

export function createTaskRunner(options: TaskRunnerOptions): TaskRunner {
  const { tasks, events, logger } = options;
  const queue: string[] = [];
  const queued = new Set<string>();
  const running = new Map<string, { controller: AbortController; done: Promise<void> }>();
  const secrets = new Map<string, { values: Record<string, string>; unregister: () => void }>();
  let draining = false;

  const workspaceDir = (taskId: string) => path.join(options.workspacesDir, taskId);

  const finish = async (task: TaskRow, status: 'completed' | 'failed', error: string | null) => {
    const now = new Date().toISOString();
    await tasks.update(task.id, {
      status,
      error,
      completed_at: now,
      last_activity_at: now,
      runner_id: null,
      lease_until: null,
    });
    logger.info({ taskId: task.id, status }, 'task finished');
  };

  const fail = async (task: TaskRow, message: string, code: string) => {
    await events.append(task.id, 'error', { message, code });
    await finish(task, 'failed', message);
  };

  const runTurn = async (taskId: string, signal: AbortSignal) => {
    const task = await tasks.find(taskId);
    if (!task || !['pending', 'running'].includes(task.status)) return;
    if (task.has_secrets && !secrets.has(taskId)) {
      await fail(
        task,
        'The server restarted and this task’s secrets, which are kept in memory only, were lost. Create a new task with its secrets to continue.',
        'SECRETS_LOST',
      );
      return;
    }
    const project = await options.projects.find(task.project);
    const config: ProjectConfig = project?.config ?? { toolPolicies: {}, mcpServers: {}, sandbox: {}, rateLimits: {} };
    const now = new Date().toISOString();
    await tasks.update(taskId, { status: 'running', started_at: task.started_at ?? now, last_activity_at: now });
    logger.info({ taskId, status: 'running' }, 'task running');
    await events.append(taskId, 'status', { status: 'connecting' });
    const context = (await options.resolveContext?.(task)) ?? { env: {}, secrets: {} };
    const taskSecrets = secrets.get(taskId)?.values ?? {};
    const allSecrets = { ...context.secrets, ...taskSecrets };
    const env = { ...context.env, ...(task.env ? (JSON.parse(task.env) as Record<string, string>) : {}), ...allSecrets };
    const unregister = secretRegistry.add(Object.values(allSecrets));
    try {
      const state = parseAgentState(task.state);
      const model = options.resolveModel(config.model);
      await events.append(taskId, 'status', { status: 'processing' });
      const result = await runAgentTurn(state, {
        model,
        system: [config.systemPrompt, task.system_prompt].filter(Boolean).join('\n\n') || undefined,
        tools: options.tools,
        toolContext: { taskId, workspaceDir: workspaceDir(taskId), env, limits: toSandboxLimits(config), signal },
        gate: (toolName, grants) => decideToolGate({ toolName, policies: config.toolPolicies, autoExecute: task.auto_execute === 1, grants }),
        emit: async (event, data) => {
          signal.throwIfAborted();
          return events.append(taskId, event, data);
        },
        save: async (next) => {
          await tasks.update(taskId, { state: JSON.stringify(next), last_activity_at: new Date().toISOString() });
        },
        redactor: options.createRedactor(Object.values(allSecrets)),
        signal,
        maxSteps: options.maxSteps,
        maxRetries: options.maxRetries,
        retryDelayMs: options.retryDelayMs,
      });
      signal.throwIfAborted();
      if (result.kind === 'awaiting_approval') {
        await tasks.update(taskId, { status: 'awaiting_approval', last_activity_at: new Date().toISOString(), runner_id: null });
        logger.info({ taskId, status: 'awaiting_approval' }, 'task awaiting approval');
        return;
      }
      const text = state.turnText;
      state.turnText = '';
      state.steps = 0;
      await tasks.update(taskId, { state: JSON.stringify(state), message_count: task.message_count + 1 });
      if (result.kind === 'completed') {
        await events.append(taskId, 'content', { text, isPartial: false });
        await events.append(taskId, 'done', { finalResponse: text });
        await finish(task, 'completed', null);
      } else {
        await fail(task, result.message, result.code);
      }
    } finally {
      unregister();
    }
  };

  const pump = () => {
    while (!draining && running.size < options.maxConcurrent && queue.length > 0) {
      const taskId = queue.shift()!;
      queued.delete(taskId);
      const controller = new AbortController();
      const done = runTurn(taskId, controller.signal)
        .catch(async (error: unknown) => {
          if (controller.signal.aborted) return;
          logger.error({ taskId, error }, 'task turn crashed');
          const task = await tasks.find(taskId);
          if (task) await fail(task, 'The agent stopped because of an internal error.', 'INTERNAL_ERROR').catch(() => {});
        })
        .finally(() => {
          running.delete(taskId);
          pump();
        });
      running.set(taskId, { controller, done });
    }
  };

  return {
    schedule(taskId) {
      if (queued.has(taskId) || running.has(taskId)) return;
      queued.add(taskId);
      queue.push(taskId);
      pump();
    },
    setSecrets(taskId, values) {
      if (Object.keys(values).length === 0) return;
      secrets.get(taskId)?.unregister();
      secrets.set(taskId, { values, unregister: secretRegistry.add(Object.values(values)) });
    },
    hasSecrets: (taskId) => secrets.has(taskId),
    async abort(taskId) {
      const index = queue.indexOf(taskId);
      if (index >= 0) queue.splice(index, 1);
      queued.delete(taskId);
      const entry = running.get(taskId);
      if (!entry) return;
      entry.controller.abort(new Error(`Task ${taskId} was cancelled`));
      await entry.done;
    },
    forget(taskId) {
      secrets.get(taskId)?.unregister();
      secrets.delete(taskId);
    },
    async recover() {
      for (const task of await tasks.findUnfinished()) {
        logger.warn({ taskId: task.id, status: task.status }, 'resuming task left unfinished by a previous run');
        await fs.mkdir(workspaceDir(task.id), { recursive: true });
        this.schedule(task.id);
      }
    },
    workspaceDir,
    get activeCount() {
      return running.size + queue.length;
    },
    async drain(timeoutMs) {
      draining = true;
      const all = Promise.all([...running.values()].map((entry) => entry.done));
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
        timer.unref();
      });
      await Promise.race([all, timeout]);
      clearTimeout(timer);
      // Whatever still runs is aborted; its task resumes on the next start from its last saved step.
      for (const entry of running.values()) entry.controller.abort(new Error('Server shutting down'));
      await Promise.all([...running.values()].map((entry) => entry.done));
    },
  };
}
