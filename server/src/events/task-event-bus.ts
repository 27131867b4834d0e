import { EventEmitter } from 'node:events';
import type { TaskEvent } from '@concierge/shared';

/** Live fan-out of appended events to every stream, and of control messages to every runner. */
export interface TaskEventBus {
  publish(taskId: string, event: TaskEvent): void | Promise<void>;
  /** Returns the unsubscribe function. */
  subscribe(taskId: string, listener: (event: TaskEvent) => void): () => void;
  /** Asks whichever server runs the task to stop it (cancel). */
  publishAbort(taskId: string): void | Promise<void>;
  onAbort(listener: (taskId: string) => void): void;
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
    publishAbort(taskId) {
      emitter.emit('abort', taskId);
    },
    onAbort(listener) {
      emitter.on('abort', listener);
    },
    close: async () => {
      emitter.removeAllListeners();
    },
  };
}
