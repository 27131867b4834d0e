import { type Kysely, sql } from 'kysely';
import type { TaskEvent } from '@concierge/shared';
import type { Database } from './schema.ts';

/** The durable per-task event log. */
export function createTaskEventsRepository(db: Kysely<Database>) {
  return {
    /**
     * Appends with the next sequence number, computed in the same statement. Two writers racing on
     * one task (two servers) collide on the primary key; the caller retries. With `leaseHolder`, the
     * row is written only while that holder still holds the task's lease (a turn's events): returns
     * undefined when it does not, so a server that lost its lease cannot add to the log.
     */
    async append(taskId: string, event: string, data: unknown, createdAt: string, leaseHolder?: string): Promise<number | undefined> {
      const next = db
        .selectFrom('task_events')
        .select((eb) => [
          eb.val(taskId).as('task_id'),
          sql<number>`coalesce(max(seq), 0) + 1`.as('seq'),
          eb.val(event).as('event'),
          eb.val(JSON.stringify(data)).as('data'),
          eb.val(createdAt).as('created_at'),
        ])
        .where('task_id', '=', taskId);
      // An aggregate always yields a row, so the lease is checked around it, not in its WHERE.
      const fenced =
        leaseHolder === undefined
          ? next
          : db
              .selectFrom(next.as('next'))
              .selectAll()
              .where((eb) => eb.exists(eb.selectFrom('tasks').select('tasks.id').where('tasks.id', '=', taskId).where('tasks.runner_id', '=', leaseHolder)));
      const row = await db.insertInto('task_events').columns(['task_id', 'seq', 'event', 'data', 'created_at']).expression(fenced).returning('seq').executeTakeFirst();
      return row === undefined ? undefined : Number(row.seq);
    },
    async find(taskId: string, seq: number): Promise<TaskEvent | undefined> {
      const row = await db.selectFrom('task_events').selectAll().where('task_id', '=', taskId).where('seq', '=', seq).executeTakeFirst();
      return row && ({ seq: Number(row.seq), event: row.event, data: JSON.parse(row.data), createdAt: row.created_at } as TaskEvent);
    },
    /** Events after `afterSeq` in order; `limit` reads one page (streams page through long logs). */
    async list(taskId: string, afterSeq = 0, limit?: number): Promise<TaskEvent[]> {
      let query = db.selectFrom('task_events').selectAll().where('task_id', '=', taskId).where('seq', '>', afterSeq).orderBy('seq');
      if (limit !== undefined) query = query.limit(limit);
      const rows = await query.execute();
      return rows.map((row) => ({ seq: Number(row.seq), event: row.event, data: JSON.parse(row.data), createdAt: row.created_at }) as TaskEvent);
    },
    /** The sequence of the task's latest event of this kind (0 when there is none); reads no event data. */
    async lastSeqOf(taskId: string, event: string): Promise<number> {
      const row = await db
        .selectFrom('task_events')
        .select((eb) => eb.fn.max('seq').as('seq'))
        .where('task_id', '=', taskId)
        .where('event', '=', event)
        .executeTakeFirst();
      return Number(row?.seq ?? 0);
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
