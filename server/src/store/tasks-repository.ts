import type { Kysely, Selectable, Updateable } from 'kysely';
import type { Database, TasksTable } from './schema.ts';

export type TaskRow = Selectable<TasksTable>;

/** Who is asking: an API key sees its project; a widget JWT sees its app's end user only. */
export interface TaskScope {
  project: string;
  appId?: string;
  endUserId?: string;
}

/** Task rows. Every read takes a scope, so a caller cannot see another's task by id. */
export function createTasksRepository(db: Kysely<Database>) {
  const scoped = (scope: TaskScope) => {
    let query = db.selectFrom('tasks').where('project', '=', scope.project);
    if (scope.appId !== undefined) query = query.where('app_id', '=', scope.appId);
    if (scope.endUserId !== undefined) query = query.where('end_user_id', '=', scope.endUserId);
    return query;
  };
  return {
    async insert(row: TaskRow): Promise<void> {
      await db.insertInto('tasks').values(row).execute();
    },
    async find(id: string, scope?: TaskScope): Promise<TaskRow | undefined> {
      const query = scope ? scoped(scope) : db.selectFrom('tasks');
      return query.selectAll().where('id', '=', id).executeTakeFirst();
    },
    async list(scope: TaskScope, page: { limit: number; offset: number }): Promise<{ rows: TaskRow[]; total: number }> {
      const rows = await scoped(scope)
        .selectAll()
        .orderBy('last_activity_at', 'desc')
        .orderBy('id', 'desc')
        .limit(page.limit)
        .offset(page.offset)
        .execute();
      const { count } = await scoped(scope).select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow();
      return { rows, total: Number(count) };
    },
    async update(id: string, changes: Updateable<TasksTable>): Promise<void> {
      await db.updateTable('tasks').set(changes).where('id', '=', id).execute();
    },
    /** Applies `changes` only while the task is in one of `statuses` (so a cancel is never overwritten). */
    async updateIfStatus(id: string, statuses: string[], changes: Updateable<TasksTable>): Promise<boolean> {
      const result = await db.updateTable('tasks').set(changes).where('id', '=', id).where('status', 'in', statuses).executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
    /**
     * Applies `changes` only if the task's status and state are still what the caller read: of two
     * servers deciding the same thing at once (an approval, a follow-up), exactly one wins.
     */
    async updateIfUnchanged(id: string, expected: Pick<TaskRow, 'status' | 'state'>, changes: Updateable<TasksTable>): Promise<boolean> {
      const result = await db
        .updateTable('tasks')
        .set(changes)
        .where('id', '=', id)
        .where('status', '=', expected.status)
        .where('state', '=', expected.state)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
    /**
     * Takes the task for this server unless another server holds a live lease on it. `force` ignores
     * leases (SQLite: one server per database, so any lease left behind belongs to a dead process).
     */
    async claim(id: string, runnerId: string, leaseMs: number, force = false, replaces?: string): Promise<boolean> {
      const now = new Date();
      let query = db
        .updateTable('tasks')
        .set({ runner_id: runnerId, lease_until: new Date(now.getTime() + leaseMs).toISOString() })
        .where('id', '=', id)
        .where('status', 'in', ['pending', 'running']);
      if (!force) {
        query = query.where((eb) =>
          eb.or([
            eb('runner_id', 'is', null),
            eb('runner_id', '=', runnerId),
            // This server's own earlier lease that it could not release (the database was down then).
            ...(replaces ? [eb('runner_id', '=', replaces)] : []),
            eb('lease_until', '<', now.toISOString()),
          ]),
        );
      }
      const result = await query.executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
    /** Extends a lease; false when it is no longer this holder's (another server took the task, or it was cancelled). */
    async renewLease(id: string, runnerId: string, leaseMs: number): Promise<boolean> {
      const result = await db
        .updateTable('tasks')
        .set({ lease_until: new Date(Date.now() + leaseMs).toISOString() })
        .where('id', '=', id)
        .where('runner_id', '=', runnerId)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
    /**
     * A turn's write, fenced by its lease: applied only while `runnerId` still holds the task (and, when
     * given, the status is one of `statuses`). `lease_lost` when another server took the task or a cancel
     * released it: the turn must stop writing.
     */
    async updateIfLeased(
      id: string,
      runnerId: string,
      changes: Updateable<TasksTable>,
      statuses?: string[],
    ): Promise<'applied' | 'status_changed' | 'lease_lost'> {
      let query = db.updateTable('tasks').set(changes).where('id', '=', id).where('runner_id', '=', runnerId);
      if (statuses) query = query.where('status', 'in', statuses);
      const result = await query.executeTakeFirst();
      if (Number(result.numUpdatedRows) > 0) return 'applied';
      const row = await db.selectFrom('tasks').select('runner_id').where('id', '=', id).executeTakeFirst();
      return row?.runner_id === runnerId ? 'status_changed' : 'lease_lost';
    },
    async releaseLease(id: string, runnerId: string): Promise<void> {
      await db.updateTable('tasks').set({ runner_id: null, lease_until: null }).where('id', '=', id).where('runner_id', '=', runnerId).execute();
    },
    /** Unfinished tasks nobody holds a live lease on (left by a crashed or stopped server), except those `ownLeases` hold. */
    async findOrphaned(ownLeases: readonly string[], ignoreLeases = false): Promise<string[]> {
      const now = new Date().toISOString();
      let query = db.selectFrom('tasks').select('id').where('status', 'in', ['pending', 'running']);
      if (!ignoreLeases) {
        query = query.where((eb) =>
          eb.or([eb.and([eb('runner_id', 'is', null), eb('last_activity_at', '<', new Date(Date.now() - 30_000).toISOString())]), eb('lease_until', '<', now)]),
        );
      }
      if (ownLeases.length > 0) query = query.where((eb) => eb.or([eb('runner_id', 'is', null), eb('runner_id', 'not in', [...ownLeases])]));
      const rows = await query.execute();
      return rows.map((row) => row.id);
    },
  };
}

export type TasksRepository = ReturnType<typeof createTasksRepository>;
