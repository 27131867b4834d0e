import type { HealthReport } from './http/routes/health-route.ts';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import type { Server } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LanguageModelV3 } from '@ai-sdk/provider';
import type { Config } from './config.ts';
import { createTaskEventBus } from './events/task-event-bus.ts';
import { createTaskEventLog } from './events/task-event-log.ts';
import { createPostgresEventBus } from './events/postgres-event-bus.ts';
import { createApp } from './http/create-app.ts';
import { createHttpServer } from './http/create-http-server.ts';
import type { Logger } from './logging/logger.ts';
import { createModel, resolveModelSetting } from './runtime/model/create-model.ts';
import { createSandbox, type Sandbox } from './runtime/sandbox/create-sandbox.ts';
import { workspacePathWarning } from './runtime/sandbox/visible-workspace-path.ts';
import { grantSandboxTraversal } from './runtime/sandbox/grant-sandbox-traversal.ts';
import { createRedactor } from './runtime/secrets/create-redactor.ts';
import { createTaskRunner, type TaskRunner } from './runtime/task-runner.ts';
import { startWorkspaceRetention } from './runtime/sweep-old-workspaces.ts';
import { listDirectoryTool, readFileTool, writeFileTool } from './runtime/tools/file-tools.ts';
import { runShellCommandTool } from './runtime/tools/run-shell-command.ts';
import type { ToolDefinition } from './runtime/tools/tool.ts';
import { createApiKeysService } from './services/api-keys/api-keys-service.ts';
import { createTasksService } from './services/tasks/tasks-service.ts';
import { createWidgetIdentity } from './services/widget-identity/create-widget-identity.ts';
import { createApiKeysRepository } from './store/api-keys-repository.ts';
import { openDatabase } from './store/open-database.ts';
import { createProjectsRepository } from './store/projects-repository.ts';
import { checkSharedDataDir } from './store/check-shared-data-dir.ts';
import { createServersRepository } from './store/servers-repository.ts';
import { createTaskEventsRepository } from './store/task-events-repository.ts';
import { createTasksRepository } from './store/tasks-repository.ts';

export const WIDGET_DIST_DIR = path.resolve(fileURLToPath(import.meta.url), '../../../widget/dist');

/** How long shutdown waits for running turns before aborting them (they resume on the next start). */
export const SHUTDOWN_DRAIN_MS = 10_000;

export interface ConciergeServer {
  /** Listens on config.host:config.port (port 0 picks a free one); resolves to the base URL. */
  listen(): Promise<string>;
  close(): Promise<void>;
  runner: TaskRunner;
  sandbox: Sandbox;
  modelLabel: string;
  /** What GET /healthz answers. */
  health(): Promise<HealthReport>;
}

/** Wires store, event log, runtime, services and HTTP from a Config: the one place real adapters are chosen. */
export async function createServer(config: Config, logger: Logger): Promise<ConciergeServer> {
  const database = await openDatabase({
    dataDir: config.dataDir,
    databaseUrl: config.databaseUrl,
    onConnectionError: (error) => logger.warn({ error }, 'an idle PostgreSQL connection dropped'),
  });
  const sandbox = await createSandbox({
    mode: config.sandbox,
    logger,
    hostUid: config.sandboxHost.uid,
    hostGid: config.sandboxHost.gid,
    totals: {
      memoryMb: config.sandboxHost.totalMemoryMb,
      processes: config.sandboxHost.totalProcesses,
      cpuPercent: config.sandboxHost.totalCpuPercent,
    },
  });
  const modelSetting = resolveModelSetting(config.modelEnv);
  const modelOptions = { idleTimeoutMs: config.modelIdleTimeoutMs };
  const defaultModel = createModel(modelSetting, modelOptions);
  const projectModels = new Map<string, LanguageModelV3>();
  /** A project's own `model` uses its provider's own base URL and key; throws ModelConfigError when they are missing. */
  const resolveModel = (projectModel: string | undefined): LanguageModelV3 => {
    if (!projectModel || projectModel === modelSetting.model) return defaultModel.model;
    let model = projectModels.get(projectModel);
    if (!model) {
      model = createModel(resolveModelSetting(config.modelEnv, projectModel), modelOptions).model;
      projectModels.set(projectModel, model);
    }
    return model;
  };

  const tasksRepository = createTasksRepository(database.db);
  const projects = createProjectsRepository(database.db);
  const eventsRepository = createTaskEventsRepository(database.db);
  const bus = config.databaseUrl
    ? await createPostgresEventBus({
        connectionString: config.databaseUrl,
        loadEvent: eventsRepository.find,
        logger,
        onNotification: (taskId) => logger.debug({ taskId }, 'event notification received'),
      })
    : createTaskEventBus();
  const events = createTaskEventLog({
    repository: eventsRepository,
    bus,
    distributed: config.databaseUrl !== undefined,
    onPublishError: (taskId, error) =>
      logger.warn({ taskId, reason: error instanceof Error ? error.message : String(error) }, 'an event was stored but its notification could not be sent; streams read it from the log'),
  });
  const apiKeys = createApiKeysService({ apiKeys: createApiKeysRepository(database.db), projects });
  const identity = await createWidgetIdentity({ db: database.db, projects, config, logger });

  // biome-ignore lint/suspicious/noExplicitAny: tools have heterogeneous argument types.
  const tools = new Map<string, ToolDefinition<any>>();
  for (const definition of [listDirectoryTool, readFileTool, writeFileTool, runShellCommandTool(sandbox)]) tools.set(definition.name, definition);

  const workspacesDir = path.join(config.dataDir, 'workspaces');
  const stagingDir = path.join(config.dataDir, 'staging');
  await fs.mkdir(workspacesDir, { recursive: true, mode: 0o700 });
  if (sandbox.hostUser) await grantSandboxTraversal(config.dataDir, workspacesDir, sandbox.hostUser);
  // What the sandbox can learn of the host's layout is said where operators look (docs/security.md).
  // PostgreSQL mode: every server must see the same workspaces; a server with its own data dir says so loudly.
  const dataDirWarning = database.kind === 'postgres' ? await checkSharedDataDir(database.db, config.dataDir) : undefined;
  if (dataDirWarning) logger.warn({ dataDir: config.dataDir }, dataDirWarning);
  const pathWarning = sandbox.mode === 'bwrap' ? workspacePathWarning(workspacesDir) : undefined;
  if (pathWarning) {
    sandbox.enforcement.warnings.push(pathWarning);
    logger.warn({ sandbox: 'bwrap' }, pathWarning);
  }
  await fs.rm(stagingDir, { recursive: true, force: true });
  await fs.mkdir(stagingDir, { recursive: true, mode: 0o700 });

  const diskReserveBytes = config.diskReserveMb * 1024 * 1024;
  const runner = createTaskRunner({
    tasks: tasksRepository,
    projects,
    events,
    bus,
    exclusiveDatabase: database.kind === 'sqlite',
    logger,
    resolveModel,
    tools,
    createRedactor,
    resolveContext: identity.resolveContext,
    workspacesDir,
    sandbox,
    diskReserveBytes,
    serverId: randomUUID(),
    servers: createServersRepository(database.db),
    secretsTtlMs: config.secretsTtlMs,
    async isAppRevoked(taskId) {
      const appId = (await tasksRepository.find(taskId))?.app_id;
      return appId ? (await identity.apps.find(appId)) === undefined : false;
    },
    maxConcurrent: config.maxConcurrentTasks,
    maxSteps: config.maxSteps,
    maxRetries: config.modelMaxRetries,
    retryDelayMs: config.modelRetryDelayMs,
  });
  const tasks = createTasksService({
    tasks: tasksRepository,
    projects,
    events,
    runner,
    logger,
    keyMaterial: identity.keyMaterial,
    diskReserveBytes,
  });

  // /healthz answers anyone: it says what is enforced, without host paths (data dir, cgroup folders),
  // which the start-up log gives the operator in full.
  const hidePaths = (text: string) => text.replaceAll(config.dataDir, '<data dir>');
  const { totals, warnings: sandboxWarnings, ...enforced } = sandbox.enforcement;
  const publicSandbox = {
    mode: sandbox.mode,
    ...enforced,
    ...(totals ? { totals: { memoryMb: totals.memoryMb, processes: totals.processes, cpuPercent: totals.cpuPercent } } : {}),
    warnings: sandboxWarnings.map(hidePaths),
  };

  /** Readiness: the database answers, the bus is connected, the server is not draining. */
  const health = async (): Promise<HealthReport> => {
    let db = 'ok';
    try {
      await projects.find('__health__');
    } catch {
      db = 'unavailable';
    }
    const draining = closing !== undefined;
    return {
      status: db === 'ok' && bus.connected && !draining ? 'ok' : 'unavailable',
      ...(draining ? { draining: true } : {}),
      db: database.kind,
      dbStatus: db,
      bus: bus.connected ? 'connected' : 'reconnecting',
      sandbox: publicSandbox,
      model: { provider: defaultModel.provider, id: defaultModel.modelId, label: defaultModel.label },
      jwt: identity.jwtConfigured ? 'configured' : 'not configured',
      activeTasks: runner.activeCount,
      ...(dataDirWarning ? { warnings: [hidePaths(dataDirWarning)] } : {}),
    };
  };

  const app = createApp({
    logger,
    tasks,
    events,
    apiKeys,
    widgetAuth: identity.widgetAuth,
    publicRouters: identity.publicRouters,
    beforeRoutes: identity.beforeRoutes,
    onTaskCreate: identity.onTaskCreate,
    stagingDir,
    widgetDistDir: WIDGET_DIST_DIR,
    streamLimits: config.http,
    isDraining: () => closing !== undefined,
    health,
  });

  const retention = startWorkspaceRetention({ db: database.db, workspacesDir, retentionDays: config.workspaceRetentionDays, logger });
  let server: Server | undefined;
  let closing: Promise<void> | undefined;
  return {
    runner,
    sandbox,
    health,
    modelLabel: defaultModel.label,
    listen() {
      return new Promise((resolve, reject) => {
        // requestTimeout covers receiving a request only, so long SSE responses are not cut by it.
        server = createHttpServer(app, config.http);
        server.listen(config.port, config.host);
        server.once('error', reject);
        server.once('listening', () => {
          const address = server!.address();
          const port = typeof address === 'object' && address ? address.port : config.port;
          // Unfinished tasks resume once the server answers: resuming many heavy turns first left a
          // restarted server unreachable for seconds (red team).
          runner.recover().then(
            () => resolve(`http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`),
            reject,
          );
        });
      });
    },
    close() {
      closing ??= (async () => {
        const stopped = server ? new Promise<void>((resolve) => server!.close(() => resolve())) : Promise.resolve();
        // Streams hold sockets open; end them so close() can finish.
        server?.closeIdleConnections();
        retention.stop();
        await runner.drain(SHUTDOWN_DRAIN_MS);
        server?.closeAllConnections();
        await stopped;
        await bus.close();
        await database.close();
      })();
      return closing;
    },
  };
}
