import type { Context } from 'koa';
import { encodeSseEvent, isTerminalEvent, isTerminalStatus, SSE_HEARTBEAT, type TaskEvent, type TaskStatus } from '@concierge/shared';
import type { TaskEventLog } from '../../events/task-event-log.ts';
import { buildHistory } from '../../events/build-history.ts';
import type { TasksService } from '../../services/tasks/tasks-service.ts';

export const HEARTBEAT_INTERVAL_MS = 15_000;

// Only Sigmic's live events go on the wire; `user_message` is rebuilt into history_message instead.
const LIVE_EVENTS = new Set(['status', 'thought', 'content', 'tool_call', 'tool_result', 'error', 'done']);

function parseResumePoint(ctx: Context): number | undefined {
  const raw = ctx.get('last-event-id') || (typeof ctx.query.after === 'string' ? ctx.query.after : '');
  if (raw === '') return undefined;
  const value = Number(raw);
  return Number.isInteger(value) && value >= 0 ? value : undefined;
}

/**
 * GET /tasks/{id}/stream. Subscribes first, then replays the log, then forwards live events above the
 * last replayed sequence: no gap, no duplicate. Without a resume point it replays history as
 * `history_message`s; with `Last-Event-ID` / `?after=` it sends only the events after that one.
 */
export function createStreamHandler(deps: { tasks: TasksService; events: TaskEventLog; heartbeatMs?: number }) {
  return async (ctx: Context) => {
    const principal = ctx.state.principal;
    const taskId = ctx.params.id as string;
    const row = await deps.tasks.findForStream(principal, taskId);
    const after = parseResumePoint(ctx);

    const buffered: TaskEvent[] = [];
    let forward: ((event: TaskEvent) => void) | undefined;
    const unsubscribe = deps.events.subscribe(taskId, (event) => (forward ? forward(event) : buffered.push(event)));

    ctx.respond = false;
    const response = ctx.res;
    response.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
      ...Object.fromEntries(Object.entries(ctx.response.headers).filter(([name]) => name.startsWith('access-control-') || name === 'vary' || name === 'x-request-id')),
    });
    response.flushHeaders();

    let closed = false;
    const heartbeat = setInterval(() => !closed && response.write(SSE_HEARTBEAT), deps.heartbeatMs ?? HEARTBEAT_INTERVAL_MS);
    heartbeat.unref();
    const close = () => {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      unsubscribe();
      response.end();
    };
    ctx.req.on('close', close);

    try {
      const logged = await deps.events.list(taskId);
      let lastSeq = logged.at(-1)?.seq ?? 0;
      const current = await deps.tasks.findForStream(principal, taskId).catch(() => row);
      const streaming = !isTerminalStatus(current.status as TaskStatus);
      let ended = false;
      const send = (event: TaskEvent) => {
        if (closed || event.seq <= lastSeq) return;
        lastSeq = event.seq;
        if (LIVE_EVENTS.has(event.event)) response.write(encodeSseEvent(event.event, event.data, event.seq));
        // A follow-up reopens the task: only a terminal event after the last user turn ends the stream.
        if (event.event === 'user_message') ended = false;
        else if (isTerminalEvent(event)) ended = true;
      };
      const { messages } = buildHistory(logged);
      if (after === undefined) {
        for (const message of messages) response.write(encodeSseEvent('history_message', message));
        response.write(encodeSseEvent('history_done', { messageCount: messages.length, isStreaming: streaming }, lastSeq));
      } else {
        response.write(encodeSseEvent('history_done', { messageCount: messages.length, isStreaming: streaming }));
        const replayFrom = lastSeq;
        lastSeq = after;
        for (const event of logged) if (event.seq > after && event.seq <= replayFrom) send(event);
        lastSeq = Math.max(lastSeq, replayFrom);
      }
      // Events that landed while replaying (for instance the task finishing) still go out.
      for (const event of buffered.splice(0)) send(event);
      if (!streaming || ended) return close();
      forward = (event) => {
        send(event);
        if (ended) close();
      };
    } catch (error) {
      if (!closed) response.write(encodeSseEvent('error', { message: 'The stream failed; reconnect to resume.', code: 'INTERNAL_ERROR' }));
      close();
      throw error;
    }
  };
}
