import type { Kysely } from 'kysely';
import { DEFAULT_PROJECT_CONFIG, type ProjectConfig, projectConfigSchema } from './project-config.ts';
import type { Database } from './schema.ts';

export interface Project {
  name: string;
  config: ProjectConfig;
}

/** Projects and their JSON configuration. */
export function createProjectsRepository(db: Kysely<Database>) {
  return {
    async find(name: string): Promise<Project | undefined> {
      const row = await db.selectFrom('projects').selectAll().where('name', '=', name).executeTakeFirst();
      return row && { name: row.name, config: projectConfigSchema.parse(JSON.parse(row.config)) };
    },
    /** Creates the project with default configuration unless it exists. */
    async ensure(name: string): Promise<void> {
      const now = new Date().toISOString();
      await db
        .insertInto('projects')
        .values({ name, config: JSON.stringify(DEFAULT_PROJECT_CONFIG), created_at: now, updated_at: now })
        .onConflict((conflict) => conflict.column('name').doNothing())
        .execute();
    },
    async upsert(name: string, config: ProjectConfig): Promise<void> {
      const now = new Date().toISOString();
      await db
        .insertInto('projects')
        .values({ name, config: JSON.stringify(config), created_at: now, updated_at: now })
        .onConflict((conflict) => conflict.column('name').doUpdateSet({ config: JSON.stringify(config), updated_at: now }))
        .execute();
    },
  };
}

export type ProjectsRepository = ReturnType<typeof createProjectsRepository>;
