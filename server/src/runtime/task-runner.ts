import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { LanguageModelV3 } from '@ai-sdk/provider';
import type { TaskEventBus } from '../events/task-event-bus.ts';
import type { TaskEventLog } from '../events/task-event-log.ts';
import type { Logger } from '../logging/logger.ts';
import { LeaseLostError } from '../events/task-event-log.ts';
import { secretRegistry } from '../logging/secret-registry.ts';
import { isDatabaseUnavailable } from '../store/is-database-unavailable.ts';
import type { ProjectConfig } from '../store/project-config.ts';
import { toSandboxLimits } from './sandbox/sandbox-limits.ts';
import { buildHistory } from '../events/build-history.ts';
import type { ProjectsRepository } from '../store/projects-repository.ts';
import type { TaskRow, TasksRepository } from '../store/tasks-repository.ts';
import { type AgentState, createAgentState, endTurn } from './agent/agent-state.ts';
import { runAgentTurn, type TextRedactor } from './agent/run-agent-turn.ts';
import { decideToolGate } from './agent/tool-policy.ts';
import { describeModelFailure } from './model/describe-model-failure.ts';
import { ModelConfigError } from './model/model-config-error.ts';
import { connectMcpServers } from './mcp/connect-mcp-servers.ts';
import type { Sandbox } from './sandbox/create-sandbox.ts';
import type { ServersRepository } from '../store/servers-repository.ts';
import { createWorkspace } from './workspace/create-workspace.ts';
import type { OutputRedactor, ToolDefinition } from './tools/tool.ts';

export interface TaskRunnerOptions {
  tasks: TasksRepository;
  projects: ProjectsRepository;
  events: TaskEventLog;
  /** Carries cancels to whichever server runs the task, and turns to the server holding a task's secrets. */
  bus: Pick<TaskEventBus, 'publishAbort' | 'onAbort' | 'publishRun' | 'onRun'>;
  /** This server's id: tasks created here with secrets name it, since only its memory holds them. */
  serverId: string;
  /** Where servers say they are alive (a task's secrets are lost only once their server is gone). */
  servers?: ServersRepository;
  /** True when no other server shares the database (SQLite): leases left behind are dead. */
  exclusiveDatabase: boolean;
  logger: Logger;
  /** The model for a project (its own `model` setting, else the server's). */
  resolveModel(projectModel: string | undefined): LanguageModelV3;
  // biome-ignore lint/suspicious/noExplicitAny: tools have heterogeneous argument types.
  tools: ReadonlyMap<string, ToolDefinition<any>>;
  createRedactor(secretValues: string[]): TextRedactor & OutputRedactor;
  /** Extra env and secrets for a task beyond its own (the widget end user's), merged under the task's. */
  resolveContext?(task: TaskRow): Promise<{ env: Record<string, string>; secrets: Record<string, string> }>;
  workspacesDir: string;
  /** Free disk the host keeps for itself; no workspace writes into it. */
  diskReserveBytes?: number;
  /** Where the task's stdio MCP servers run (the shell's sandbox); without it they are reported unavailable. */
  sandbox?: Pick<Sandbox, 'spawn' | 'hostUser'>;
  /** How long an idle task keeps its in-memory secrets for follow-ups. */
  secretsTtlMs: number;
  /** True once the widget app a task belongs to is revoked: its running turn stops and the task fails (APP_REVOKED). */
  isAppRevoked?(taskId: string): Promise<boolean>;
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
  /** The secrets the task's sandbox holds (its own), to redact what the API shows of its workspace. */
  secretValues(task: TaskRow): Promise<string[]>;
  /** Stops the task's running turn, if any; resolves once it has stopped. */
  abort(taskId: string): Promise<void>;
  forget(taskId: string): void;
  /** Resumes or fails tasks left unfinished by a previous process. */
  recover(): Promise<void>;
  workspaceDir(taskId: string): string;
  /** Makes the task's workspace (with uploads/ and downloads/), owned by the sandbox's host user. */
  createWorkspace(taskId: string): Promise<void>;
  readonly activeCount: number;
  readonly serverId: string;
  /** Stops accepting work, aborts nothing, waits for running turns up to `timeoutMs`. */
  drain(timeoutMs: number): Promise<void>;
}

/** How long a server's claim on a running task lasts without renewal. */
export const LEASE_MS = 30_000;
/** How often a running turn checks that its widget app was not revoked (open streams check as often). */
export const REVOCATION_CHECK_MS = 3_000;
const APP_REVOKED = new Error('The widget app was revoked');
const SWEEP_INTERVAL_MS = 10_000;
/**
 * Token-exchange secrets this long are hidden where an MCP result repeats them whole. Shorter ones (a
 * PIN) are not searched for at all: a visitor who can make a tool echo candidates would learn which one
 * was hidden.
 */
const UNGUESSABLE_SECRET_LENGTH = 16;
/** How often a server says it is alive, and how long after its last word another still counts on it. */
const HEARTBEAT_MS = 5_000;
const SERVER_ALIVE_MS = 15_000;
/** Servers silent this long are deleted from the table (their tasks' secrets are long gone). */
const FORGET_SERVERS_MS = 24 * 3_600_000;
// A turn stopped by a database outage is tried again after 1 s, then 2, 4… up to 30 s.
const DATABASE_RETRY_FIRST_MS = 1_000;
const DATABASE_RETRY_MAX_MS = 30_000;

/** The same ids in random order, so servers sweeping at once do not all reach for the same tasks first. */
function shuffle<T>(items: T[]): T[] {
  for (let index = items.length - 1; index > 0; index--) {
    const other = Math.floor(Math.random() * (index + 1));
    [items[index], items[other]] = [items[other]!, items[index]!];
  }
  return items;
}

export function parseAgentState(raw: string): AgentState {
  return { ...createAgentState(), ...(JSON.parse(raw) as Partial<AgentState>) };
}

export function createTaskRunner(options: TaskRunnerOptions): TaskRunner {
  const { tasks, events, logger } = options;
  const queue: string[] = [];
  const queued = new Set<string>();
  // Tasks scheduled again while their turn was still running or closing (MCP clients, final writes):
  // they are queued once that turn is done, so an approval or follow-up that lands then is never lost.
  const rescheduled = new Set<string>();
  const running = new Map<string, { controller: AbortController; done: Promise<void> }>();
  const secrets = new Map<string, { values: Record<string, string>; unregister: () => void; usedAt: number }>();
  let draining = false;
  // Leases held by this server's running turns (one per turn): the sweep leaves their tasks alone.
  const heldLeases = new Set<string>();
  // Leases a finished turn could not release (the database was down): the task's next turn here takes over from them.
  const unreleased = new Map<string, string>();
  let sweepTimer: NodeJS.Timeout | undefined;
  let heartbeatTimer: NodeJS.Timeout | undefined;
  const startedAt = new Date().toISOString();
  const startHeartbeat = () => {
    const { servers } = options;
    if (!servers) return;
    const beat = () =>
      servers.heartbeat(options.serverId, startedAt).catch((error: unknown) => {
        logger.debug({ reason: error instanceof Error ? error.message : String(error) }, 'server heartbeat not recorded');
      });
    void beat();
    heartbeatTimer = setInterval(beat, HEARTBEAT_MS);
    heartbeatTimer.unref();
  };
  // Secrets of idle tasks are dropped, so memory does not grow with every task ever created.
  const secretsTimer = setInterval(() => {
    const cutoff = Date.now() - options.secretsTtlMs;
    for (const [taskId, entry] of secrets) {
      if (entry.usedAt < cutoff && !running.has(taskId) && !queued.has(taskId)) {
        entry.unregister();
        secrets.delete(taskId);
      }
    }
  }, Math.min(60_000, options.secretsTtlMs));
  secretsTimer.unref();

  const workspaceDir = (taskId: string) => path.join(options.workspacesDir, taskId);

  /**
   * Records the end of a turn. The status changes before the terminal event is appended, so a client
   * that sees `done` or `error` can send a follow-up at once. Does nothing if the task was cancelled.
   */
  const finish = async (task: TaskRow, status: 'completed' | 'failed', error: string | null, lease?: string): Promise<boolean> => {
    const now = new Date().toISOString();
    const changes = { status, error, completed_at: now, last_activity_at: now };
    const statuses = ['running', 'pending'];
    const applied = lease ? await writeLeased(task.id, lease, changes, statuses) : await tasks.updateIfStatus(task.id, statuses, changes);
    if (applied) logger.info({ taskId: task.id, status }, 'task finished');
    return applied;
  };

  /** Fails the task; `lease` when the failing turn writes it (then only while it holds the task). */
  const fail = async (task: TaskRow, message: string, code: string, lease?: string) => {
    if (!(await finish(task, 'failed', message, lease))) return;
    await events.append(task.id, 'error', { message, code }, lease);
    // The failed turn is an assistant message in history (docs/api.md "Failed and cancelled turns").
    const messageCount = { message_count: buildHistory(await events.list(task.id)).messages.length };
    if (lease) await writeLeased(task.id, lease, messageCount);
    else await tasks.update(task.id, messageCount);
  };

  /** A turn's write to its task row: LeaseLostError once the turn no longer holds the task; false when the status moved on. */
  const writeLeased = async (taskId: string, lease: string, changes: Parameters<TasksRepository['update']>[1], statuses?: string[]) => {
    const outcome = await tasks.updateIfLeased(taskId, lease, changes, statuses);
    if (outcome === 'lease_lost') throw new LeaseLostError(taskId);
    return outcome === 'applied';
  };

  /**
   * How many of a dead server's tasks this server takes in one sweep: its share among the live servers
   * (each sweeps on its own timer, so the tasks spread instead of all landing on the first to look),
   * and no more than it has room to run. Alone with the database (SQLite), all of them.
   */
  const takeoverShare = async (orphans: number, alone: boolean): Promise<number> => {
    if (alone || !options.servers) return orphans;
    const alive = Math.max(1, await options.servers.countAlive(SERVER_ALIVE_MS).catch(() => 1));
    const room = Math.max(0, options.maxConcurrent - running.size - queue.length);
    return Math.min(Math.ceil(orphans / alive), room);
  };

  /** The server other than this one that holds the task's secrets and is alive, if any: it runs the task's turns. */
  const secretsHolderElsewhere = async (task: TaskRow): Promise<string | undefined> => {
    const holder = task.secrets_server_id;
    if (!task.has_secrets || secrets.has(task.id) || !holder || holder === options.serverId) return undefined;
    // One server per SQLite database: any other id is this server before a restart.
    if (options.exclusiveDatabase || !options.servers) return undefined;
    return (await options.servers.isAlive(holder, SERVER_ALIVE_MS)) ? holder : undefined;
  };

  const secretsLostMessage = (task: TaskRow): string =>
    task.secrets_server_id === options.serverId
      ? 'This task’s secrets, which are kept in memory only, were dropped after the task was idle for longer than secrets are kept. Create a new task with its secrets to continue.'
      : 'This task’s secrets, which are kept in memory only, are gone: the server that received them has stopped or restarted since. Create a new task with its secrets to continue.';

  const runTurn = async (taskId: string, controller: AbortController) => {
    const task = await tasks.find(taskId);
    if (!task || !['pending', 'running'].includes(task.status)) return;
    // A follow-up or approval that reached this server for a task whose secrets another server holds:
    // that server runs the turn (no sticky sessions needed); the task waits for it, unclaimed.
    const holder = await secretsHolderElsewhere(task);
    if (holder) {
      logger.info({ taskId, server: holder }, 'turn handed to the server that holds the task’s secrets');
      await options.bus.publishRun(holder, taskId);
      return;
    }
    // Another server may already run it (PostgreSQL); the lease decides. Each turn holds its own lease,
    // so a turn of this server that was cut off cannot write as a later one.
    const lease = randomUUID();
    if (!(await tasks.claim(taskId, lease, LEASE_MS, options.exclusiveDatabase, unreleased.get(taskId)))) return;
    unreleased.delete(taskId);
    heldLeases.add(lease);
    const renew = setInterval(() => {
      tasks
        .renewLease(taskId, lease, LEASE_MS)
        .then((held) => {
          if (!held) controller.abort(new LeaseLostError(taskId));
        })
        .catch(() => {});
    }, LEASE_MS / 3);
    renew.unref();
    try {
      await runClaimedTurn(task, controller.signal, lease);
    } finally {
      clearInterval(renew);
      heldLeases.delete(lease);
      await tasks.releaseLease(taskId, lease).catch(() => unreleased.set(taskId, lease));
    }
  };

  const runClaimedTurn = async (task: TaskRow, signal: AbortSignal, lease: string) => {
    const taskId = task.id;
    if (task.has_secrets && !secrets.has(taskId)) {
      await fail(task, secretsLostMessage(task), 'SECRETS_LOST', lease);
      return;
    }
    const project = await options.projects.find(task.project);
    const config: ProjectConfig = project?.config ?? { toolPolicies: {}, mcpServers: {}, sandbox: {}, rateLimits: {} };
    // A follow-up after the retention sweep removed the workspace starts from an empty one.
    if (!existsSync(workspaceDir(taskId))) await createWorkspace(workspaceDir(taskId), options.sandbox?.hostUser);
    const now = new Date().toISOString();
    await writeLeased(taskId, lease, { status: 'running', started_at: task.started_at ?? now, last_activity_at: now }, ['pending', 'running']);
    logger.info({ taskId, status: 'running' }, 'task running');
    await events.append(taskId, 'status', { status: 'connecting' }, lease);
    // A project naming a provider the server has no key (or base URL) for fails its turns with a clear code.
    let model: LanguageModelV3;
    try {
      model = options.resolveModel(config.model);
    } catch (error) {
      if (!(error instanceof ModelConfigError)) throw error;
      logger.error({ taskId, project: task.project, reason: error.message }, 'the project model is not configured');
      await fail(task, describeModelFailure(error).message, error.code, lease);
      return;
    }
    const context = (await options.resolveContext?.(task)) ?? { env: {}, secrets: {} };
    const kept = secrets.get(taskId);
    if (kept) kept.usedAt = Date.now();
    const taskSecrets = kept?.values ?? {};
    // Every value is redacted, never a merge by name: a visitor's task secret named like the owner's
    // token secret must not take the owner's value out of the redactor.
    const secretValues = [...Object.values(context.secrets), ...Object.values(taskSecrets)];
    // The token exchange's secrets never enter the sandbox nor reach the model, so the visitor can make
    // nothing the turn shows hold them: no redactor over the turn's output watches for them, since each
    // that did answered the visitor's guesses (red team: held-back stream prefixes, [REDACTED] at the
    // position of a right guess among printed candidates). Only the log watches for them.
    const hiddenValues = Object.values(context.secrets);
    const taskEnv = task.env ? (JSON.parse(task.env) as Record<string, string>) : {};
    // The visitor drives the shell, so the token exchange's secrets never enter it: they serve
    // {{mcp.KEY}} templates only. The token's env and the task's own env and secrets do reach it, and
    // the site owner's token env wins a name clash (a visitor cannot restate who they are).
    const env = { ...taskEnv, ...taskSecrets, ...context.env };
    // A widget task's templates resolve from the site owner's token values only, never from the
    // visitor's own task input (which could re-point an authenticated MCP request anywhere).
    const templateValues = task.app_id !== null ? { ...context.env, ...context.secrets } : { ...taskEnv, ...taskSecrets };
    const unregister = secretRegistry.add(secretValues);
    const redactor = options.createRedactor(Object.values(taskSecrets));
    const unguessable = hiddenValues.filter((value) => value.length >= UNGUESSABLE_SECRET_LENGTH);
    // MCP errors may repeat them (a server echoing a header in its error): with any of them in the
    // templates, no MCP error detail reaches the visitor at all (deciding note by note would answer guesses).
    const mcp = Object.values(config.mcpServers).some((server) => server.enabled)
      ? await connectMcpServers(config.mcpServers, templateValues, {
          signal,
          sandbox: options.sandbox,
          workspaceDir: workspaceDir(taskId),
          limits: toSandboxLimits(config, options.diskReserveBytes),
          redact: redactor.redact,
          withholdErrors: hiddenValues.length > 0,
          // An MCP server may hand back the credential it was given: long ones (too many to guess, so a
          // whole match answers nothing) are hidden there, whole matches only, never a cut prefix.
          redactResult: unguessable.length > 0 ? options.createRedactor(unguessable).redact : undefined,
          logger: logger.child({ taskId }),
        })
      : undefined;
    try {
      const state = parseAgentState(task.state);
      for (const failure of mcp?.failures ?? []) {
        logger.warn({ taskId, server: failure.server, reason: failure.reason }, 'MCP server unavailable');
      }
      const tools = new Map(options.tools);
      for (const definition of mcp?.tools ?? []) tools.set(definition.name, definition);
      const unavailable = (mcp?.failures ?? []).map((failure) => `${failure.server} (${failure.reason})`).join('; ');
      if (task.status === 'running') {
        // A server stopped in the middle of this turn: its partial text was streamed but not saved.
        // Reset the message to the text of the saved steps, so the re-run step is not shown twice.
        await events.append(taskId, 'content', { text: state.turnText, isPartial: false }, lease);
      }
      await events.append(
        taskId,
        'status',
        { status: 'processing', ...(unavailable ? { message: redactor.redact(`Some tools are unavailable: ${unavailable}`) } : {}) },
        lease,
      );
      const result = await runAgentTurn(state, {
        model,
        system: [config.systemPrompt, task.system_prompt].filter(Boolean).join('\n\n') || undefined,
        tools,
        toolContext: { taskId, workspaceDir: workspaceDir(taskId), env, limits: toSandboxLimits(config, options.diskReserveBytes), signal, redactor },
        gate: (toolName, grants) => decideToolGate({ toolName, policies: config.toolPolicies, autoExecute: task.auto_execute === 1, grants }),
        emit: async (event, data) => {
          signal.throwIfAborted();
          return events.append(taskId, event, data, lease);
        },
        save: async (next) => {
          await writeLeased(taskId, lease, { state: JSON.stringify(next), last_activity_at: new Date().toISOString() });
        },
        redactor,
        signal,
        maxSteps: options.maxSteps,
        maxRetries: options.maxRetries,
        retryDelayMs: options.retryDelayMs,
        onModelFailure: (failure, willRetry) =>
          logger.warn({ taskId, code: failure.code, detail: failure.detail, willRetry }, willRetry ? 'model call failed; retrying' : 'model call failed'),
      });
      signal.throwIfAborted();
      if (result.kind === 'awaiting_approval') {
        await writeLeased(taskId, lease, { status: 'awaiting_approval', last_activity_at: new Date().toISOString() }, ['running']);
        logger.info({ taskId, status: 'awaiting_approval' }, 'task awaiting approval');
        return;
      }
      const text = state.turnText;
      endTurn(state);
      // messageCount is what history shows: every turn ends as an assistant message (its answer, or its failure).
      const { messages } = buildHistory(await events.list(taskId));
      const answerPending = messages.at(-1)?.role !== 'assistant';
      await writeLeased(taskId, lease, { state: JSON.stringify(state), message_count: messages.length + (answerPending ? 1 : 0) });
      if (result.kind === 'completed') {
        if (await finish(task, 'completed', null, lease)) {
          await events.append(taskId, 'content', { text, isPartial: false }, lease);
          await events.append(taskId, 'done', { finalResponse: text }, lease);
        }
      } else {
        await fail(task, result.message, result.code, lease);
      }
    } finally {
      await mcp?.close();
      unregister();
    }
  };

  /** Fails the task with `message`, unless it is gone or the database cannot be reached (then it resumes later). */
  const failIfPresent = async (taskId: string, message: string, code: string) => {
    try {
      const task = await tasks.find(taskId);
      if (task) await fail(task, message, code);
    } catch (error) {
      if (isDatabaseUnavailable(error)) retryWhenDatabaseIsBack(taskId, error);
      else logger.error({ taskId, error }, 'could not record the failure of a task');
    }
  };

  // Consecutive turns of a task stopped by a database outage, for the backoff before the next try.
  const databaseRetries = new Map<string, number>();
  const retryWhenDatabaseIsBack = (taskId: string, error: unknown) => {
    const attempt = (databaseRetries.get(taskId) ?? 0) + 1;
    databaseRetries.set(taskId, attempt);
    const delayMs = Math.min(DATABASE_RETRY_MAX_MS, DATABASE_RETRY_FIRST_MS * 2 ** (attempt - 1));
    logger.warn({ taskId, attempt, delayMs, reason: error instanceof Error ? error.message : String(error) }, 'the database is unavailable; the turn resumes once it is back');
    const timer = setTimeout(() => {
      if (!draining) schedule(taskId);
    }, delayMs);
    timer.unref();
  };

  const pump = () => {
    while (!draining && running.size < options.maxConcurrent && queue.length > 0) {
      const taskId = queue.shift()!;
      queued.delete(taskId);
      const controller = new AbortController();
      const stopWatching = watchRevocation(taskId, controller);
      const done = runTurn(taskId, controller)
        .then(() => {
          databaseRetries.delete(taskId);
        })
        .catch(async (error: unknown) => {
          if (controller.signal.reason === APP_REVOKED) {
            logger.warn({ taskId }, 'task stopped: its widget app was revoked');
            await failIfPresent(taskId, 'This conversation was stopped because the site’s chat access was revoked.', 'APP_REVOKED');
            return;
          }
          if (controller.signal.aborted) return;
          if (error instanceof LeaseLostError) {
            // Another server took the task (this one stalled past its lease), or a cancel released it.
            logger.warn({ taskId }, 'task turn stopped: this server no longer holds the task');
            return;
          }
          if (isDatabaseUnavailable(error)) {
            // An outage is weather: the turn resumes from its last saved step once the database is back.
            retryWhenDatabaseIsBack(taskId, error);
            return;
          }
          logger.error({ taskId, error }, 'task turn crashed');
          await failIfPresent(taskId, 'The agent stopped because of an internal error.', 'INTERNAL_ERROR');
        })
        .finally(() => {
          stopWatching();
          running.delete(taskId);
          if (rescheduled.delete(taskId)) enqueue(taskId);
          pump();
        });
      running.set(taskId, { controller, done });
    }
  };

  // Revoking an app (from the CLI, possibly on another server) is an emergency stop for its visitors' turns.
  const watchRevocation = (taskId: string, controller: AbortController): (() => void) => {
    const { isAppRevoked } = options;
    if (!isAppRevoked) return () => {};
    const check = async () => {
      if (!controller.signal.aborted && (await isAppRevoked(taskId).catch(() => false))) controller.abort(APP_REVOKED);
    };
    void check();
    const timer = setInterval(() => void check(), REVOCATION_CHECK_MS);
    timer.unref();
    return () => clearInterval(timer);
  };

  const enqueue = (taskId: string) => {
    if (queued.has(taskId)) return;
    queued.add(taskId);
    queue.push(taskId);
  };

  /** Runs the task's next turn: now, or once its current turn is done. */
  function schedule(taskId: string) {
    if (running.has(taskId)) rescheduled.add(taskId);
    else enqueue(taskId);
    pump();
  }

  return {
    schedule,
    setSecrets(taskId, values) {
      if (Object.keys(values).length === 0) return;
      secrets.get(taskId)?.unregister();
      secrets.set(taskId, { values, unregister: secretRegistry.add(Object.values(values)), usedAt: Date.now() });
    },
    hasSecrets: (taskId) => secrets.has(taskId),
    async secretValues(task) {
      // Only what the sandbox holds can be in the workspace: the token exchange's secrets never are, and
      // watching for them in files a visitor writes would answer the visitor's guesses (red team).
      return Object.values(secrets.get(task.id)?.values ?? {});
    },
    async abort(taskId) {
      const index = queue.indexOf(taskId);
      if (index >= 0) queue.splice(index, 1);
      queued.delete(taskId);
      rescheduled.delete(taskId);
      const entry = running.get(taskId);
      if (!entry) {
        await options.bus.publishAbort(taskId);
        return;
      }
      entry.controller.abort(new Error(`Task ${taskId} was cancelled`));
      await entry.done;
    },
    forget(taskId) {
      secrets.get(taskId)?.unregister();
      secrets.delete(taskId);
    },
    async recover() {
      const sweep = async (ignoreLeases: boolean) => {
        const orphans = shuffle(await tasks.findOrphaned([...heldLeases], ignoreLeases)).filter((taskId) => !queued.has(taskId) && !running.has(taskId));
        for (const taskId of orphans.slice(0, await takeoverShare(orphans.length, ignoreLeases))) {
          logger.warn({ taskId }, 'resuming task left unfinished by a stopped server');
          await createWorkspace(workspaceDir(taskId), options.sandbox?.hostUser);
          schedule(taskId);
        }
      };
      options.bus.onAbort((taskId) => running.get(taskId)?.controller.abort(new Error(`Task ${taskId} was cancelled`)));
      options.bus.onRun((serverId, taskId) => {
        if (serverId === options.serverId && !draining) schedule(taskId);
      });
      startHeartbeat();
      await sweep(options.exclusiveDatabase);
      if (!options.exclusiveDatabase) {
        // Servers sharing PostgreSQL pick up the tasks of a server that died, once its leases lapse.
        sweepTimer = setInterval(() => void sweep(false).catch((error: unknown) => logger.error({ error }, 'task sweep failed')), SWEEP_INTERVAL_MS);
        sweepTimer.unref();
      }
    },
    workspaceDir,
    createWorkspace: (taskId) => createWorkspace(workspaceDir(taskId), options.sandbox?.hostUser),
    get activeCount() {
      return running.size + queue.length + rescheduled.size;
    },
    serverId: options.serverId,
    async drain(timeoutMs) {
      draining = true;
      clearInterval(sweepTimer);
      clearInterval(secretsTimer);
      clearInterval(heartbeatTimer);
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
      // Gone for good: other servers fail this server's secret-holding tasks at once instead of waiting.
      await options.servers?.remove(options.serverId, FORGET_SERVERS_MS).catch(() => {});
    },
  };
}
