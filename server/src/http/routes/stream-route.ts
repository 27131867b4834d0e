import type { Context } from 'koa';
import { encodeSseEvent, isLiveEventName, isTerminalEvent, SSE_HEARTBEAT, type TaskEvent } from '@concierge/shared';
import { type CatchUpEnd, replayTaskLog } from '../../events/replay-task-log.ts';
import type { TaskEventLog } from '../../events/task-event-log.ts';
import { isAppError } from '../../errors/app-error.ts';
import type { TasksService } from '../../services/tasks/tasks-service.ts';
import { isDatabaseUnavailable } from '../../store/is-database-unavailable.ts';
import { createSseWriter } from '../sse-writer.ts';
import type { ReplayGate } from '../replay-gate.ts';
import { principalKey, type StreamSlots } from '../stream-slots.ts';

export const HEARTBEAT_INTERVAL_MS = 15_000;
/** How often an open stream checks that its API key or widget app has not been revoked. */
export const PRINCIPAL_RECHECK_INTERVAL_MS = 3_000;
/** Events read from the log per query while replaying (a catch-up holds one page at a time). */
export const REPLAY_PAGE_EVENTS = 200;
/** How often an idle stream on PostgreSQL checks the log for an event whose notification was lost. */
export const LOG_CHECK_INTERVAL_MS = 5_000;
// Live events held while the replay runs; past this they are dropped and re-read from the log instead.
const MAX_HELD_EVENTS = 1000;


/** Re-checks the caller's credential on an open stream; throws an AppError once it is revoked (set by `authenticate`). */
export type PrincipalCheck = () => Promise<void>;

function parseResumePoint(ctx: Context): number | undefined {
  const raw = ctx.get('last-event-id') || (typeof ctx.query.after === 'string' ? ctx.query.after : '');
  if (raw === '') return undefined;
  const value = Number(raw);
  return Number.isInteger(value) && value >= 0 ? value : undefined;
}

/**
 * GET /tasks/{id}/stream. Subscribes first, then replays the log page by page (waiting for the client to
 * drain), then forwards live events above the last replayed sequence: no gap, no duplicate. Without a
 * resume point it replays history as `history_message`s; with `Last-Event-ID` / `?after=` it sends only the
 * events after that one. A client that stops reading is dropped; a revoked credential ends the stream.
 */
export function createStreamHandler(deps: {
  tasks: TasksService;
  events: TaskEventLog;
  slots: StreamSlots;
  replayGate: ReplayGate;
  stallTimeoutMs: number;
  heartbeatMs?: number;
  recheckMs?: number;
  logCheckMs?: number;
}) {
  return async (ctx: Context) => {
    const principal = ctx.state.principal;
    const taskId = ctx.params.id as string;
    await deps.tasks.findForStream(principal, taskId);
    const release = deps.slots.acquire(principal, taskId);
    const after = parseResumePoint(ctx);

    // Live events that arrive while the stream catches up are held, then written in order; when too
    // many come, or one is missing (a notification lost between servers), the log is read instead.
    let held: TaskEvent[] = [];
    let readLog = false;
    let forward: ((event: TaskEvent) => void) | undefined;
    const hold = (event: TaskEvent) => {
      if (held.length >= MAX_HELD_EVENTS) {
        held = [];
        readLog = true;
      }
      held.push(event);
    };
    const unsubscribe = deps.events.subscribe(taskId, (event) => (forward ? forward(event) : hold(event)));

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
    const closing = new AbortController();
    const timers: NodeJS.Timeout[] = [];
    // Live delivery stopped (the bus lost its database connection): events may be missed, so the
    // client is sent away to reconnect with Last-Event-ID and catch up from the log.
    const stopOnDisconnect = deps.events.onDisconnect(() => close());
    const close = () => {
      if (closed) return;
      closed = true;
      closing.abort();
      for (const timer of timers) clearInterval(timer);
      stopOnDisconnect();
      unsubscribe();
      release();
      if (!response.destroyed) response.end();
    };
    const writer = createSseWriter(response, { stallTimeoutMs: deps.stallTimeoutMs, onDrop: close });
    ctx.req.on('close', close);
    response.on('close', close);

    timers.push(setInterval(() => !closed && writer.write(SSE_HEARTBEAT), deps.heartbeatMs ?? HEARTBEAT_INTERVAL_MS));
    const check = ctx.state.checkPrincipal as PrincipalCheck | undefined;
    if (check) {
      let checking = false;
      timers.push(
        setInterval(() => {
          if (closed || checking) return;
          checking = true;
          check()
            .catch((error: unknown) => {
              if (closed) return;
              const code = isAppError(error) ? error.code : 'INTERNAL_ERROR';
              const message = isAppError(error) ? error.message : 'The stream could not re-check its credential';
              writer.write(encodeSseEvent('error', { message, code }));
              close();
            })
            .finally(() => (checking = false));
        }, deps.recheckMs ?? PRINCIPAL_RECHECK_INTERVAL_MS),
      );
    }
    for (const timer of timers) timer.unref();

    /** Ends a stream that cannot go on; the client reconnects with Last-Event-ID and loses nothing. */
    const failStream = (error: unknown) => {
      if (closed) return;
      if (isDatabaseUnavailable(error)) {
        // A database outage: a plain close, so clients reconnect (with backoff) instead of giving up.
        close();
        return;
      }
      writer.write(encodeSseEvent('error', { message: 'The stream failed; reconnect to resume.', code: 'INTERNAL_ERROR' }));
      close();
    };

    try {
      let lastSeq = 0;
      let ended = false;
      const encode = (event: TaskEvent): string => {
        if (event.seq <= lastSeq) return '';
        lastSeq = event.seq;
        // A follow-up reopens the task: only a terminal event after the last user turn ends the stream.
        if (event.event === 'user_message') ended = false;
        else if (isTerminalEvent(event)) ended = true;
        // Log-only events never go on the wire (shared/src/event-names.ts).
        return isLiveEventName(event.event) ? encodeSseEvent(event.event, event.data, event.seq) : '';
      };
      /** Sends the log from `lastSeq` on, one page at a time, until a page comes back short. */
      const replayLog = async () => {
        for (;;) {
          const page = await deps.events.list(taskId, lastSeq, REPLAY_PAGE_EVENTS);
          if (closed) return;
          await writer.writePaced(page.map(encode).join(''));
          if (page.length < REPLAY_PAGE_EVENTS || closed) return;
        }
      };

      // The catch-up waits for a turn (it holds part of the log until the client takes it), then is
      // sent one piece at a time; a client that stops reading is dropped and gives its turn back.
      // The log is read only once the subscription is live: nothing appended in between can be missed.
      await deps.events.listening(taskId);
      const leave = await deps.replayGate.enter(principalKey(principal), closing.signal);
      let end: CatchUpEnd;
      try {
        if (closed) return;
        const catchUp = replayTaskLog(deps.events, taskId, after, REPLAY_PAGE_EVENTS);
        for (;;) {
          const next = await catchUp.next();
          if (next.done) {
            end = next.value;
            break;
          }
          if (closed) {
            await catchUp.return({ lastSeq: 0, ended: true });
            return;
          }
          await writer.writePaced(next.value);
        }
      } finally {
        leave();
      }
      lastSeq = end.lastSeq;
      ended = end.ended;

      /** Writes the held events in sequence order, reading the log first where one is missing. */
      const settle = async () => {
        forward = undefined;
        for (let rounds = 0; !closed && rounds < 1000; rounds++) {
          held.sort((a, b) => a.seq - b.seq);
          const next = held.find((event) => event.seq > lastSeq);
          if (readLog || (next && next.seq > lastSeq + 1)) {
            readLog = false;
            held = [];
            await replayLog();
            continue;
          }
          const pending = held;
          held = [];
          writer.write(pending.map(encode).join(''));
          break;
        }
        if (closed) return;
        if (ended) return close();
        forward = (event) => {
          // The next one, or one already sent: straight through. Anything later means one went missing.
          if (event.seq > lastSeq + 1) {
            hold(event);
            void settle().catch(failStream);
            return;
          }
          const text = encode(event);
          if (text) writer.write(text);
          if (ended) close();
        };
      };
      await settle();
      if (closed || !deps.events.distributed) return;
      // Between servers a notification can be lost without a gap to show it (the task's last event):
      // now and then an idle stream looks at the log itself.
      let checking = false;
      const check = setInterval(() => {
        if (closed || checking || !forward) return;
        checking = true;
        deps.events
          .list(taskId, lastSeq, 1)
          .then((newer) => {
            if (newer.length === 0 || closed || !forward) return;
            readLog = true;
            return settle();
          })
          .catch(failStream)
          .finally(() => (checking = false));
      }, deps.logCheckMs ?? LOG_CHECK_INTERVAL_MS);
      check.unref();
      timers.push(check);
    } catch (error) {
      failStream(error);
      if (!isDatabaseUnavailable(error)) throw error;
    }
  };
}
