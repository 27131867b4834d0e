import { EventEmitter } from 'node:events';
import type { TaskEvent } from '@concierge/shared';
import pg from 'pg';
import type { Logger } from '../logging/logger.ts';
import type { TaskEventBus } from './task-event-bus.ts';

const EVENTS_CHANNEL = 'concierge_task_events';
const CONTROL_CHANNEL = 'concierge_task_control';
// NOTIFY payloads must stay under 8000 bytes; larger events travel by reference and are read back.
const MAX_INLINE_PAYLOAD_BYTES = 7000;

type Notification = { taskId: string; event?: TaskEvent; seq?: number };

/**
 * The scale-out bus: every server LISTENs, every append NOTIFYs, so any server can stream any task
 * and a cancel reaches the server that runs it. Notifications are handled in arrival order.
 */
export async function createPostgresEventBus(options: {
  connectionString: string;
  loadEvent(taskId: string, seq: number): Promise<TaskEvent | undefined>;
  logger: Logger;
}): Promise<TaskEventBus> {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  const pool = new pg.Pool({ connectionString: options.connectionString, max: 4 });
  pool.on('error', (error) => options.logger.warn({ error }, 'an idle PostgreSQL connection of the event bus dropped'));
  const listener = new pg.Client({ connectionString: options.connectionString });
  await listener.connect();
  let chain: Promise<void> = Promise.resolve();
  listener.on('notification', (message) => {
    if (!message.payload) return;
    if (message.channel === CONTROL_CHANNEL) {
      emitter.emit('abort', (JSON.parse(message.payload) as { taskId: string }).taskId);
      return;
    }
    const notification = JSON.parse(message.payload) as Notification;
    chain = chain.then(async () => {
      const event = notification.event ?? (await options.loadEvent(notification.taskId, notification.seq!));
      if (event) emitter.emit(`event:${notification.taskId}`, event);
    }).catch((error: unknown) => options.logger.error({ error, taskId: notification.taskId }, 'event notification failed'));
  });
  listener.on('error', (error) => options.logger.error({ error }, 'PostgreSQL LISTEN connection failed'));
  await listener.query(`LISTEN ${EVENTS_CHANNEL}`);
  await listener.query(`LISTEN ${CONTROL_CHANNEL}`);

  return {
    async publish(taskId, event) {
      let payload = JSON.stringify({ taskId, event } satisfies Notification);
      if (Buffer.byteLength(payload) > MAX_INLINE_PAYLOAD_BYTES) payload = JSON.stringify({ taskId, seq: event.seq } satisfies Notification);
      await pool.query('SELECT pg_notify($1, $2)', [EVENTS_CHANNEL, payload]);
    },
    subscribe(taskId, listenerFn) {
      emitter.on(`event:${taskId}`, listenerFn);
      return () => emitter.off(`event:${taskId}`, listenerFn);
    },
    async publishAbort(taskId) {
      await pool.query('SELECT pg_notify($1, $2)', [CONTROL_CHANNEL, JSON.stringify({ taskId })]);
    },
    onAbort(listenerFn) {
      emitter.on('abort', listenerFn);
    },
    async close() {
      emitter.removeAllListeners();
      await listener.end().catch(() => {});
      await pool.end();
    },
  };
}
