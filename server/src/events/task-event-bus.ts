import { EventEmitter } from 'node:events';
import type { TaskEvent } from '@concierge/shared';

/** Live fan-out of appended events to every stream, and of control messages to every runner. */
export interface TaskEventBus {
  publish(taskId: string, event: TaskEvent): void | Promise<void>;
  /** Returns the unsubscribe function. */
  subscribe(taskId: string, listener: (event: TaskEvent) => void): () => void;
  /** Resolves once a subscription to the task receives what is appended from now on (PostgreSQL: its LISTEN is active). */
  listening(taskId: string): Promise<void>;
  /** Asks whichever server runs the task to stop it (cancel). */
  publishAbort(taskId: string): void | Promise<void>;
  onAbort(listener: (taskId: string) => void): void;
  /** Asks one server (the one holding the task's secrets in memory) to run the task's next turn. */
  publishRun(serverId: string, taskId: string): void | Promise<void>;
  onRun(listener: (serverId: string, taskId: string) => void): void;
  /** False while live delivery is down (the PostgreSQL connection is being re-established). */
  readonly connected: boolean;
  /** Called when live delivery stops: events may have been missed, so open streams must catch up from the log. */
  onDisconnect(listener: () => void): () => void;
  close(): Promise<void>;
}

/** The single-process bus (SQLite deployments). */
export function createTaskEventBus(): TaskEventBus {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  return {
    publish(taskId, event) {
      emitter.emit(`event:${taskId}`, event);
    },
    subscribe(taskId, listener) {
      emitter.on(`event:${taskId}`, listener);
      return () => emitter.off(`event:${taskId}`, listener);
    },
    listening: async () => {},
    publishAbort(taskId) {
      emitter.emit('abort', taskId);
    },
    onAbort(listener) {
      emitter.on('abort', listener);
    },
    publishRun(serverId, taskId) {
      emitter.emit('run', serverId, taskId);
    },
    onRun(listener) {
      emitter.on('run', listener);
    },
    // In one process nothing can be lost between an append and its listeners.
    connected: true,
    onDisconnect: () => () => {},
    close: async () => {
      emitter.removeAllListeners();
    },
  };
}
