import { EventEmitter } from 'node:events';
import type { TaskEvent } from '@concierge/shared';
import pg from 'pg';
import type { Logger } from '../logging/logger.ts';
import type { TaskEventBus } from './task-event-bus.ts';

const CONTROL_CHANNEL = 'concierge_task_control';
/**
 * One channel per task, listened to only by servers with a stream of that task open: an idle server
 * receives nothing (with one shared channel every server parsed every event of every task).
 */
function eventsChannel(taskId: string): string {
  return `concierge_task_${taskId.toLowerCase().replace(/[^0-9a-z]/g, '')}`;
}
// NOTIFY payloads must stay under 8000 bytes; larger events travel by reference and are read back.
const MAX_INLINE_PAYLOAD_BYTES = 7000;
// A lost LISTEN connection is opened again after 250 ms, then 500 ms… up to 5 s between tries.
const RECONNECT_FIRST_MS = 250;
const RECONNECT_MAX_MS = 5_000;

type Notification = { taskId: string; event?: TaskEvent; seq?: number };

/**
 * The scale-out bus: a server LISTENs to the channel of each task it streams, every append NOTIFYs
 * there, so any server can stream any task; cancels, and turns handed to the server that holds a
 * task's secrets, go on one control channel every runner listens to. Notifications are handled in arrival order. A lost LISTEN connection (a database restart, a
 * dropped socket) is re-established with backoff; meanwhile `connected` is false and `onDisconnect`
 * listeners are told, since notifications sent in the gap are gone (streams then catch up from the
 * log, which lost nothing).
 */
export async function createPostgresEventBus(options: {
  connectionString: string;
  loadEvent(taskId: string, seq: number): Promise<TaskEvent | undefined>;
  logger: Logger;
  /** Told of every event notification this server receives (tests, metrics). */
  onNotification?: (taskId: string) => void;
}): Promise<TaskEventBus> {
  const { logger } = options;
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  const pool = new pg.Pool({ connectionString: options.connectionString, max: 4 });
  pool.on('error', (error) => logger.warn({ reason: error.message }, 'an idle PostgreSQL connection of the event bus dropped'));
  // Also while checked out (a NOTIFY under way): unlistened, the 'error' event would end the process.
  pool.on('connect', (client) => client.on('error', (error) => logger.warn({ reason: error.message }, 'a PostgreSQL connection of the event bus dropped')));

  let chain: Promise<void> = Promise.resolve();
  const onNotification = (message: pg.Notification) => {
    if (!message.payload) return;
    if (message.channel === CONTROL_CHANNEL) {
      const control = JSON.parse(message.payload) as { taskId: string; runOn?: string };
      if (control.runOn) emitter.emit('run', control.runOn, control.taskId);
      else emitter.emit('abort', control.taskId);
      return;
    }
    const notification = JSON.parse(message.payload) as Notification;
    options.onNotification?.(notification.taskId);
    chain = chain
      .then(async () => {
        const event = notification.event ?? (await options.loadEvent(notification.taskId, notification.seq!));
        if (event) emitter.emit(`event:${notification.taskId}`, event);
      })
      .catch((error: unknown) => logger.warn({ reason: error instanceof Error ? error.message : String(error), taskId: notification.taskId }, 'event notification could not be read'));
  };

  const listen = async (): Promise<pg.Client> => {
    const client = new pg.Client({ connectionString: options.connectionString });
    // Attached before connecting: an error event without a listener would take the process down.
    client.on('error', (error) => lost(client, error));
    client.on('end', () => lost(client, new Error('the LISTEN connection ended')));
    client.on('notification', onNotification);
    await client.connect();
    await client.query(`LISTEN ${CONTROL_CHANNEL}`);
    for (const channel of listening.keys()) await client.query(`LISTEN ${channel}`);
    return client;
  };

  // Channels with local subscribers, and how many: LISTEN on the first, UNLISTEN after the last.
  const listening = new Map<string, number>();
  // The LISTEN of each channel under way or done, so a stream can wait for it before reading the log.
  const listened = new Map<string, Promise<void>>();
  const setListening = (channel: string, on: boolean) => {
    const client = listener;
    if (!client) return; // Re-listened to on reconnect.
    const done = client
      .query(`${on ? 'LISTEN' : 'UNLISTEN'} ${channel}`)
      .then(() => undefined)
      .catch((error: unknown) => lost(client, error instanceof Error ? error : new Error(String(error))));
    if (on) listened.set(channel, done);
    else listened.delete(channel);
  };

  let listener: pg.Client | undefined = await listen();
  let connected = true;
  let closed = false;
  let reconnecting: NodeJS.Timeout | undefined;

  function lost(client: pg.Client, error: Error) {
    if (closed || client !== listener) return;
    listener = undefined;
    client.removeAllListeners('notification');
    void client.end().catch(() => {});
    connected = false;
    logger.warn({ reason: error.message }, 'the PostgreSQL LISTEN connection was lost; live events pause until it is back');
    emitter.emit('disconnect');
    scheduleReconnect(RECONNECT_FIRST_MS);
  }

  function scheduleReconnect(delayMs: number) {
    reconnecting = setTimeout(async () => {
      reconnecting = undefined;
      if (closed) return;
      try {
        const client = await listen();
        if (closed) {
          await client.end().catch(() => {});
          return;
        }
        listener = client;
        connected = true;
        logger.info({}, 'the PostgreSQL LISTEN connection is back');
      } catch (error) {
        logger.warn({ reason: error instanceof Error ? error.message : String(error), retryInMs: delayMs }, 'could not re-open the PostgreSQL LISTEN connection');
        scheduleReconnect(Math.min(RECONNECT_MAX_MS, delayMs * 2));
      }
    }, delayMs);
    reconnecting.unref();
  }

  return {
    async publish(taskId, event) {
      let payload = JSON.stringify({ taskId, event } satisfies Notification);
      if (Buffer.byteLength(payload) > MAX_INLINE_PAYLOAD_BYTES) payload = JSON.stringify({ taskId, seq: event.seq } satisfies Notification);
      await pool.query('SELECT pg_notify($1, $2)', [eventsChannel(taskId), payload]);
    },
    subscribe(taskId, listenerFn) {
      const channel = eventsChannel(taskId);
      const count = listening.get(channel) ?? 0;
      listening.set(channel, count + 1);
      if (count === 0) setListening(channel, true);
      emitter.on(`event:${taskId}`, listenerFn);
      let subscribed = true;
      return () => {
        if (!subscribed) return;
        subscribed = false;
        emitter.off(`event:${taskId}`, listenerFn);
        const left = (listening.get(channel) ?? 1) - 1;
        if (left > 0) listening.set(channel, left);
        else {
          listening.delete(channel);
          setListening(channel, false);
        }
      };
    },
    async listening(taskId) {
      await listened.get(eventsChannel(taskId));
    },
    async publishAbort(taskId) {
      await pool.query('SELECT pg_notify($1, $2)', [CONTROL_CHANNEL, JSON.stringify({ taskId })]);
    },
    onAbort(listenerFn) {
      emitter.on('abort', listenerFn);
    },
    async publishRun(serverId, taskId) {
      await pool.query('SELECT pg_notify($1, $2)', [CONTROL_CHANNEL, JSON.stringify({ taskId, runOn: serverId })]);
    },
    onRun(listenerFn) {
      emitter.on('run', listenerFn);
    },
    get connected() {
      return connected;
    },
    onDisconnect(listenerFn) {
      emitter.on('disconnect', listenerFn);
      return () => emitter.off('disconnect', listenerFn);
    },
    async close() {
      closed = true;
      clearTimeout(reconnecting);
      emitter.removeAllListeners();
      await listener?.end().catch(() => {});
      await pool.end();
    },
  };
}
