import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';

/**
 * The servers sharing the database, each with the time it last said it was alive. A task's secrets live
 * in the memory of the server that received them: another server asks this table whether that one is
 * still there before it forwards the task's next turn to it or gives the secrets up for lost.
 */
export function createServersRepository(db: Kysely<Database>) {
  return {
    async heartbeat(id: string, startedAt: string): Promise<void> {
      const now = new Date().toISOString();
      await db
        .insertInto('servers')
        .values({ id, started_at: startedAt, last_seen_at: now })
        .onConflict((conflict) => conflict.column('id').doUpdateSet({ last_seen_at: now }))
        .execute();
    },
    /** True when the server said it was alive within `withinMs`. */
    async isAlive(id: string, withinMs: number): Promise<boolean> {
      const row = await db.selectFrom('servers').select('last_seen_at').where('id', '=', id).executeTakeFirst();
      return row !== undefined && Date.parse(row.last_seen_at) > Date.now() - withinMs;
    },
    /** How many servers said they were alive within `withinMs`. */
    async countAlive(withinMs: number): Promise<number> {
      const since = new Date(Date.now() - withinMs).toISOString();
      const row = await db
        .selectFrom('servers')
        .select((eb) => eb.fn.countAll<number>().as('count'))
        .where('last_seen_at', '>', since)
        .executeTakeFirst();
      return Number(row?.count ?? 0);
    },
    /** A server that stops says so, and servers silent for `olderThanMs` are forgotten. */
    async remove(id: string, olderThanMs: number): Promise<void> {
      const cutoff = new Date(Date.now() - olderThanMs).toISOString();
      await db
        .deleteFrom('servers')
        .where((eb) => eb.or([eb('id', '=', id), eb('last_seen_at', '<', cutoff)]))
        .execute();
    },
  };
}

export type ServersRepository = ReturnType<typeof createServersRepository>;
