import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';

/** Each widget end user's sealed `{env, secrets}` from their latest token exchange (one row per app and end user). */
export function createEndUserContextsRepository(db: Kysely<Database>) {
  return {
    async find(appId: string, endUserId: string): Promise<string | undefined> {
      const row = await db
        .selectFrom('end_user_contexts')
        .select('sealed')
        .where('app_id', '=', appId)
        .where('end_user_id', '=', endUserId)
        .executeTakeFirst();
      return row?.sealed;
    },
    /** Stores the sealed context, replacing any earlier one. */
    async put(appId: string, endUserId: string, sealed: string, at: string): Promise<void> {
      await db
        .insertInto('end_user_contexts')
        .values({ app_id: appId, end_user_id: endUserId, sealed, updated_at: at })
        .onConflict((conflict) => conflict.columns(['app_id', 'end_user_id']).doUpdateSet({ sealed, updated_at: at }))
        .execute();
    },
    async remove(appId: string, endUserId: string): Promise<void> {
      await db.deleteFrom('end_user_contexts').where('app_id', '=', appId).where('end_user_id', '=', endUserId).execute();
    },
  };
}

export type EndUserContextsRepository = ReturnType<typeof createEndUserContextsRepository>;
