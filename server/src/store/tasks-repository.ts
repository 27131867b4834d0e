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
    /** Tasks that were left unfinished (for start-up recovery). */
    async findUnfinished(): Promise<TaskRow[]> {
      return db.selectFrom('tasks').selectAll().where('status', 'in', ['pending', 'running']).execute();
    },
  };
}

export type TasksRepository = ReturnType<typeof createTasksRepository>;
