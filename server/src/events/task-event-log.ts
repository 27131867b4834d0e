import type { TaskEvent, TaskEventMap, TaskEventName } from '@concierge/shared';
import type { TaskEventsRepository } from '../store/task-events-repository.ts';
import type { TaskEventBus } from './task-event-bus.ts';

/**
 * Appends events to a task's durable log, then publishes them. Sequence numbers are assigned per task
 * in order; appends to one task are serialised so the log never has gaps or duplicates.
 */
export interface TaskEventLog {
  append<K extends TaskEventName>(taskId: string, event: K, data: TaskEventMap[K]): Promise<TaskEvent>;
  list(taskId: string, afterSeq?: number): Promise<TaskEvent[]>;
  subscribe(taskId: string, listener: (event: TaskEvent) => void): () => void;
}

export function createTaskEventLog(options: { repository: TaskEventsRepository; bus: TaskEventBus }): TaskEventLog {
  const { repository, bus } = options;
  const nextSeq = new Map<string, number>();
  const tails = new Map<string, Promise<unknown>>();

  const appendNow = async (taskId: string, event: TaskEventName, data: unknown): Promise<TaskEvent> => {
    let seq = nextSeq.get(taskId);
    if (seq === undefined) seq = (await repository.lastSeq(taskId)) + 1;
    const entry = { seq, event, data, createdAt: new Date().toISOString() } as TaskEvent;
    await repository.insert(taskId, entry);
    nextSeq.set(taskId, seq + 1);
    bus.publish(taskId, entry);
    return entry;
  };

  return {
    append(taskId, event, data) {
      const previous = tails.get(taskId) ?? Promise.resolve();
      const result = previous.then(() => appendNow(taskId, event, data));
      const tail = result.catch(() => undefined);
      tails.set(taskId, tail);
      // Drop the chain once idle so memory does not grow with the number of tasks ever seen.
      void tail.then(() => {
        if (tails.get(taskId) === tail) tails.delete(taskId);
      });
      return result;
    },
    list: (taskId, afterSeq) => repository.list(taskId, afterSeq),
    subscribe: (taskId, listener) => bus.subscribe(taskId, listener),
  };
}
