import type { TaskEvent, TaskEventMap, TaskEventName } from '@concierge/shared';
import type { TaskEventsRepository } from '../store/task-events-repository.ts';
import type { TaskEventBus } from './task-event-bus.ts';

/**
 * Appends events to a task's durable log, then publishes them: an event is stored before anyone can
 * see it. Appends to one task from this process are serialised, so sequence numbers follow call order.
 */
export interface TaskEventLog {
  /**
   * Stores then publishes one event. With `leaseHolder` (a turn's events) it is stored only while that
   * holder still holds the task's lease; otherwise it throws LeaseLostError and nothing is stored.
   */
  append<K extends TaskEventName>(taskId: string, event: K, data: TaskEventMap[K], leaseHolder?: string): Promise<TaskEvent>;
  /** Events after `afterSeq`, at most `limit` of them when given (one page). */
  list(taskId: string, afterSeq?: number, limit?: number): Promise<TaskEvent[]>;
  /** The latest turn's events, from its user message on: enough to fold the task's current output without reading the whole conversation. */
  listLatestTurn(taskId: string): Promise<TaskEvent[]>;
  subscribe(taskId: string, listener: (event: TaskEvent) => void): () => void;
  /** Resolves once a subscription made before receives every later append (read the log only after it). */
  listening(taskId: string): Promise<void>;
  /** Called when live delivery stops (the bus lost its connection): open streams must catch up from the log. */
  onDisconnect(listener: () => void): () => void;
  /** True when notifications travel between servers and one can be lost: streams then check the log now and then. */
  readonly distributed: boolean;
}

const MAX_APPEND_ATTEMPTS = 5;

/** A turn's write was refused because its server no longer holds the task (another took it, or a cancel released it). */
export class LeaseLostError extends Error {
  constructor(taskId: string) {
    super(`This server no longer holds task ${taskId}; its turn stops writing`);
    this.name = 'LeaseLostError';
  }
}

function isUniqueViolation(error: unknown): boolean {
  const { code } = (error ?? {}) as { code?: string };
  return code === '23505' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}

export function createTaskEventLog(options: {
  repository: TaskEventsRepository;
  bus: TaskEventBus;
  /** The bus carries events between servers (PostgreSQL). */
  distributed?: boolean;
  onPublishError?: (taskId: string, error: unknown) => void;
}): TaskEventLog {
  const { repository, bus } = options;
  const tails = new Map<string, Promise<unknown>>();

  const appendNow = async (taskId: string, event: TaskEventName, data: unknown, leaseHolder: string | undefined): Promise<TaskEvent> => {
    const createdAt = new Date().toISOString();
    for (let attempt = 1; ; attempt++) {
      try {
        const seq = await repository.append(taskId, event, data, createdAt, leaseHolder);
        if (seq === undefined) throw new LeaseLostError(taskId);
        const entry = { seq, event, data, createdAt } as TaskEvent;
        // The event is stored: a notification that cannot be sent loses nothing, since streams fill
        // gaps from the log. Failing here would make the caller append it again.
        await Promise.resolve(bus.publish(taskId, entry)).catch((error: unknown) => options.onPublishError?.(taskId, error));
        return entry;
      } catch (error) {
        // Another server appended to the same task at the same moment: take the next number.
        if (!isUniqueViolation(error) || attempt >= MAX_APPEND_ATTEMPTS) throw error;
      }
    }
  };

  return {
    append(taskId, event, data, leaseHolder) {
      const previous = tails.get(taskId) ?? Promise.resolve();
      const result = previous.then(() => appendNow(taskId, event, data, leaseHolder));
      const tail = result.catch(() => undefined);
      tails.set(taskId, tail);
      // Drop the chain once idle so memory does not grow with the number of tasks ever seen.
      void tail.then(() => {
        if (tails.get(taskId) === tail) tails.delete(taskId);
      });
      return result;
    },
    list: (taskId, afterSeq, limit) => repository.list(taskId, afterSeq, limit),
    listLatestTurn: async (taskId) => repository.list(taskId, Math.max(0, (await repository.lastSeqOf(taskId, 'user_message')) - 1)),
    subscribe: (taskId, listener) => bus.subscribe(taskId, listener),
    listening: (taskId) => bus.listening(taskId),
    onDisconnect: (listener) => bus.onDisconnect(listener),
    distributed: options.distributed ?? false,
  };
}
