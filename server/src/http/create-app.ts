import { AppError } from '../errors/app-error.ts';
import type { TaskAction } from '../services/widget-identity/widget-rate-limits.ts';
import Router from '@koa/router';
import Koa, { type Context, type Middleware } from 'koa';
import type { TaskEventLog } from '../events/task-event-log.ts';
import type { Logger } from '../logging/logger.ts';
import type { ApiKeysService } from '../services/api-keys/api-keys-service.ts';
import type { TasksService } from '../services/tasks/tasks-service.ts';
import { authenticate, type WidgetTokenAuth } from './middleware/authenticate.ts';
import { errorEnvelope } from './middleware/error-envelope.ts';
import { requestLog } from './middleware/request-log.ts';
import { createHealthRouter, type HealthReport } from './routes/health-route.ts';
import { createTasksRouter } from './routes/tasks-routes.ts';
import { serveWidgetAssets } from './routes/widget-assets-route.ts';
import { createReplayGate } from './replay-gate.ts';
import { createStreamSlots } from './stream-slots.ts';
import { createUploadSlots } from './upload-slots.ts';

// Stream catch-ups running at once (each holds a page of a log and one message until its client reads
// them), and per caller, so one caller's clients that never read cannot hold every turn.
const REPLAY_LIMITS = { maxConcurrent: 8, maxPerCaller: 2 };
// Multipart uploads in progress: each may stage up to a workspace quota on disk before it is placed.
const UPLOAD_LIMITS = { maxPerCaller: 2, maxTotal: 16 };

export interface AppDependencies {
  logger: Logger;
  tasks: TasksService;
  events: TaskEventLog;
  apiKeys: ApiKeysService;
  widgetAuth?: WidgetTokenAuth;
  /** Routes that need no authentication (the token exchange). */
  publicRouters?: Router[];
  /** Runs before routing (CORS and origin policy). */
  beforeRoutes?: Middleware[];
  /** Per-request hook on task creation (rate limits). */
  onTaskCreate?: (ctx: Context, action?: TaskAction) => void | Promise<void>;
  health: () => Promise<HealthReport>;
  /** True once the server is shutting down: it takes no new work, so a load balancer sends it elsewhere. */
  isDraining?: () => boolean;
  stagingDir: string;
  widgetDistDir: string;
  /** Caps on concurrent streams and how long a stream may wait for a client that does not read. */
  streamLimits: { maxStreamsPerPrincipal: number; maxStreamsPerTask: number; streamStallTimeoutMs: number };
}

/**
 * While draining, requests that would start or change work (creates, follow-ups, approvals, cancels)
 * answer 503 with `Connection: close`, also on kept-alive connections, so clients retry elsewhere
 * instead of leaving work with a server that will not run it. Reads and open streams go on.
 */
function refuseWorkWhileDraining(isDraining: () => boolean): Middleware {
  return async (ctx, next) => {
    if (isDraining() && !['GET', 'HEAD', 'OPTIONS'].includes(ctx.method)) {
      throw new AppError('SERVICE_UNAVAILABLE', 'This server is shutting down; send the request again and another server will take it', {
        headers: { Connection: 'close', 'Retry-After': '1' },
      });
    }
    await next();
  };
}

/** Builds the Koa app: request log, error envelope, public routes, then authenticated /api/v1 routes. */
export function createApp(deps: AppDependencies): Koa {
  const app = new Koa();
  app.proxy = true;
  app.silent = true;
  app.use(requestLog(deps.logger));
  app.use(errorEnvelope(deps.logger));
  app.use(refuseWorkWhileDraining(deps.isDraining ?? (() => false)));
  for (const middleware of deps.beforeRoutes ?? []) app.use(middleware);

  app.use(serveWidgetAssets(deps.widgetDistDir));
  const open = new Router();
  open.use(createHealthRouter(deps.health).routes());
  for (const router of deps.publicRouters ?? []) open.use('/api/v1', router.routes(), router.allowedMethods());
  app.use(open.routes());

  const api = new Router({ prefix: '/api/v1' });
  const streams = {
    slots: createStreamSlots(deps.streamLimits),
    replayGate: createReplayGate(REPLAY_LIMITS),
    stallTimeoutMs: deps.streamLimits.streamStallTimeoutMs,
  };
  const tasksRouter = createTasksRouter({
    tasks: deps.tasks,
    events: deps.events,
    stagingDir: deps.stagingDir,
    streams,
    uploads: createUploadSlots(UPLOAD_LIMITS),
    ...(deps.onTaskCreate ? { onTaskCreate: deps.onTaskCreate } : {}),
  });
  api.use(authenticate({ apiKeys: deps.apiKeys, widgetAuth: deps.widgetAuth }));
  api.use(tasksRouter.routes());
  app.use(api.routes());
  // After routing: a known path with another method answers 405 METHOD_NOT_ALLOWED with `Allow`.
  app.use(api.allowedMethods({ throw: false }));
  return app;
}
