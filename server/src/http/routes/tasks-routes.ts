import Router from '@koa/router';
import type { Context } from 'koa';
import { type ApiPage, isTerminalStatus, type TaskListItem, type TaskStatus } from '@concierge/shared';
import { AppError } from '../../errors/app-error.ts';
import type { TaskEventLog } from '../../events/task-event-log.ts';
import { toArtifactStream } from '../../services/tasks/artifact-stream.ts';
import type { TasksService } from '../../services/tasks/tasks-service.ts';
import type { TaskAction } from '../../services/widget-identity/widget-rate-limits.ts';
import { optionalString, parseBooleanField, parseEnvField, readFieldsBody, readTaskInput, type TaskInputBody } from '../read-task-input.ts';
import { discardStagedFiles } from '../../services/uploads/receive-multipart.ts';
import type { ReplayGate } from '../replay-gate.ts';
import type { StreamSlots } from '../stream-slots.ts';
import type { UploadSlots } from '../upload-slots.ts';
import { createStreamHandler } from './stream-route.ts';

function pageParam(value: unknown, name: string, fallback: number, max: number): number {
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > max) throw new AppError('VALIDATION_ERROR', `"${name}" must be an integer from 0 to ${max}`);
  return parsed;
}

/** The Task Execution API routes under /api/v1/tasks. Thin: parse, call the service, shape the envelope. */
export function createTasksRouter(deps: {
  tasks: TasksService;
  events: TaskEventLog;
  stagingDir: string;
  streams: { slots: StreamSlots; replayGate: ReplayGate; stallTimeoutMs: number; recheckMs?: number };
  uploads: UploadSlots;
  /** Rate and concurrency limits (widget traffic): before a create, a follow-up or an approval. */
  onTaskCreate?: (ctx: Context, action?: TaskAction) => void | Promise<void>;
}) {
  const router = new Router();
  const { tasks } = deps;

  /**
   * Reads a task or follow-up body and runs `use` with it; staged files are removed afterwards, placed or
   * refused. An upload holds an upload slot until then and may stage at most what `budget` allows.
   */
  const withInput = async (ctx: Context, budget: () => Promise<number>, use: (input: TaskInputBody) => Promise<void>) => {
    const upload = ctx.request.type === 'multipart/form-data';
    const release = upload ? deps.uploads.acquire(ctx.state.principal) : () => {};
    try {
      const input = await readTaskInput(ctx, deps.stagingDir, upload ? { maxUploadBytes: await budget() } : {});
      try {
        await use(input);
      } finally {
        await discardStagedFiles(input.files);
      }
    } finally {
      release();
    }
  };

  router.post('/tasks', async (ctx) => {
    await deps.onTaskCreate?.(ctx);
    await withInput(ctx, () => tasks.uploadBudget(ctx.state.principal), async ({ fields, files }) => {
      const systemPrompt = optionalString(fields.systemPrompt, 'systemPrompt');
      // A visitor's words go to the model as theirs, never as system instructions beside the owner's.
      if (systemPrompt !== undefined && ctx.state.principal.kind === 'widget') {
        throw new AppError('VALIDATION_ERROR', '"systemPrompt" can be set with an API key only; a widget visitor writes in "message"');
      }
      const data = await tasks.create(ctx.state.principal, {
        message: fields.message as string,
        systemPrompt,
        showInHistory: parseBooleanField(fields.showInHistory, 'showInHistory'),
        autoExecute: parseBooleanField(fields.autoExecute, 'autoExecute'),
        env: parseEnvField(fields.env, 'env'),
        secrets: parseEnvField(fields.secrets, 'secrets'),
        files,
      });
      ctx.body = { success: true, data };
    });
  });

  router.get('/tasks', async (ctx) => {
    // `limit=0` means the default, like an absent limit.
    const limit = pageParam(ctx.query.limit, 'limit', 50, 100) || 50;
    const offset = pageParam(ctx.query.offset, 'offset', 0, Number.MAX_SAFE_INTEGER);
    const { items, total } = await tasks.list(ctx.state.principal, { limit, offset });
    const body: ApiPage<TaskListItem> = { success: true, data: items, pagination: { total, limit, offset, hasMore: offset + items.length < total } };
    ctx.body = body;
  });

  router.get('/tasks/:id', async (ctx) => {
    ctx.body = { success: true, data: await tasks.get(ctx.state.principal, ctx.params.id!) };
  });

  router.delete('/tasks/:id', async (ctx) => {
    await tasks.cancel(ctx.state.principal, ctx.params.id!);
    ctx.body = { success: true, data: { message: 'Task cancelled' } };
  });

  router.get('/tasks/:id/stream', createStreamHandler({ tasks, events: deps.events, ...deps.streams }));

  router.post('/tasks/:id/messages', async (ctx) => {
    // Visibility and TASK_BUSY are settled before a byte of the body is read or staged.
    const current = await tasks.findForStream(ctx.state.principal, ctx.params.id!);
    if (!isTerminalStatus(current.status as TaskStatus)) throw new AppError('TASK_BUSY', `Task ${current.id} is ${current.status}; send the follow-up once it has finished`);
    await deps.onTaskCreate?.(ctx, 'follow-up');
    await withInput(ctx, () => tasks.uploadBudget(ctx.state.principal, current.id), async ({ fields, files }) => {
      ctx.body = { success: true, data: await tasks.followUp(ctx.state.principal, ctx.params.id!, { message: fields.message, files }) };
    });
  });

  router.post('/tasks/:id/tools/:callId/approve', async (ctx) => {
    await deps.onTaskCreate?.(ctx, 'approval');
    const body = await readFieldsBody(ctx);
    ctx.body = { success: true, data: await tasks.approve(ctx.state.principal, ctx.params.id!, ctx.params.callId!, body.outcome) };
  });

  router.get('/tasks/:id/history', async (ctx) => {
    ctx.body = { success: true, data: await tasks.history(ctx.state.principal, ctx.params.id!) };
  });

  router.get('/tasks/:id/artifacts', async (ctx) => {
    const { files, truncated } = await tasks.listArtifacts(ctx.state.principal, ctx.params.id!);
    ctx.body = { success: true, data: { files, ...(truncated ? { truncated: true } : {}) } };
  });

  router.get('/tasks/:id/artifacts/download', async (ctx) => {
    const file = await tasks.openArtifact(ctx.state.principal, ctx.params.id!, ctx.query.path);
    const { stream, length } = toArtifactStream(file);
    ctx.set('Content-Type', file.mimeType);
    if (length !== undefined) ctx.set('Content-Length', String(length));
    ctx.set('Content-Disposition', `attachment; filename="${file.name.replace(/[^\x20-\x7e]|["\\]/g, '_')}"; filename*=UTF-8''${encodeURIComponent(file.name)}`);
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.body = stream;
  });

  return router;
}
