import type { Kysely, Selectable } from 'kysely';
import type { Database, WidgetAppsTable } from './schema.ts';

export type WidgetAppRow = Selectable<WidgetAppsTable>;

/** Widget apps; the secret is stored as a hash only and `origins` as a JSON array. */
export function createWidgetAppsRepository(db: Kysely<Database>) {
  return {
    async insert(row: WidgetAppRow): Promise<void> {
      await db.insertInto('widget_apps').values(row).execute();
    },
    async find(id: string): Promise<WidgetAppRow | undefined> {
      return db.selectFrom('widget_apps').selectAll().where('id', '=', id).executeTakeFirst();
    },
    /** Apps that are not revoked (for the CORS preflight origin set). */
    async listActive(): Promise<WidgetAppRow[]> {
      return db.selectFrom('widget_apps').selectAll().where('revoked_at', 'is', null).execute();
    },
    /** Replaces an active app's allowed origins (a JSON array); false when no such active app exists. */
    async updateOrigins(id: string, origins: string): Promise<boolean> {
      const result = await db.updateTable('widget_apps').set({ origins }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
    /** Marks an app revoked; false when no such app exists. */
    async revoke(id: string, at: string): Promise<boolean> {
      const result = await db.updateTable('widget_apps').set({ revoked_at: at }).where('id', '=', id).executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
  };
}

export type WidgetAppsRepository = ReturnType<typeof createWidgetAppsRepository>;
