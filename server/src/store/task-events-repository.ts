import type { Kysely } from 'kysely';
import type { TaskEvent } from '@concierge/shared';
import type { Database } from './schema.ts';

/** The durable per-task event log. */
export function createTaskEventsRepository(db: Kysely<Database>) {
  return {
    async insert(taskId: string, event: TaskEvent): Promise<void> {
      await db
        .insertInto('task_events')
        .values({ task_id: taskId, seq: event.seq, event: event.event, data: JSON.stringify(event.data), created_at: event.createdAt })
        .execute();
    },
    async list(taskId: string, afterSeq = 0): Promise<TaskEvent[]> {
      const rows = await db
        .selectFrom('task_events')
        .selectAll()
        .where('task_id', '=', taskId)
        .where('seq', '>', afterSeq)
        .orderBy('seq')
        .execute();
      return rows.map((row) => ({ seq: Number(row.seq), event: row.event, data: JSON.parse(row.data), createdAt: row.created_at }) as TaskEvent);
    },
    async lastSeq(taskId: string): Promise<number> {
      const row = await db
        .selectFrom('task_events')
        .select((eb) => eb.fn.max('seq').as('seq'))
        .where('task_id', '=', taskId)
        .executeTakeFirst();
      return Number(row?.seq ?? 0);
    },
  };
}

export type TaskEventsRepository = ReturnType<typeof createTaskEventsRepository>;
