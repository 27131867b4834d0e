import { EventEmitter } from 'node:events';
import type { TaskEvent } from '@concierge/shared';

/** Live fan-out of appended events to the streams of this process. */
export interface TaskEventBus {
  publish(taskId: string, event: TaskEvent): void;
  /** Returns the unsubscribe function. */
  subscribe(taskId: string, listener: (event: TaskEvent) => void): () => void;
}

export function createTaskEventBus(): TaskEventBus {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  return {
    publish(taskId, event) {
      emitter.emit(taskId, event);
    },
    subscribe(taskId, listener) {
      emitter.on(taskId, listener);
      return () => emitter.off(taskId, listener);
    },
  };
}
