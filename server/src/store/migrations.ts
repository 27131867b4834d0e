import { type Kysely, type Migration, type MigrationProvider, Migrator, sql } from 'kysely';

// One list for SQLite and PostgreSQL: only portable column types (text, integer, bigint).
const migrations: Record<string, Migration> = {
  '0001_initial': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('projects')
        .addColumn('name', 'text', (column) => column.primaryKey())
        .addColumn('config', 'text', (column) => column.notNull())
        .addColumn('created_at', 'text', (column) => column.notNull())
        .addColumn('updated_at', 'text', (column) => column.notNull())
        .execute();
      await db.schema
        .createTable('api_keys')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('project', 'text', (column) => column.notNull().references('projects.name'))
        .addColumn('name', 'text', (column) => column.notNull())
        .addColumn('key_hash', 'text', (column) => column.notNull().unique())
        .addColumn('key_prefix', 'text', (column) => column.notNull())
        .addColumn('created_at', 'text', (column) => column.notNull())
        .addColumn('expires_at', 'text')
        .addColumn('revoked_at', 'text')
        .addColumn('last_used_at', 'text')
        .execute();
      await db.schema
        .createTable('widget_apps')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('project', 'text', (column) => column.notNull().references('projects.name'))
        .addColumn('name', 'text', (column) => column.notNull())
        .addColumn('secret_hash', 'text', (column) => column.notNull())
        .addColumn('origins', 'text', (column) => column.notNull())
        .addColumn('created_at', 'text', (column) => column.notNull())
        .addColumn('revoked_at', 'text')
        .execute();
      await db.schema
        .createTable('end_user_contexts')
        .addColumn('app_id', 'text', (column) => column.notNull())
        .addColumn('end_user_id', 'text', (column) => column.notNull())
        .addColumn('sealed', 'text', (column) => column.notNull())
        .addColumn('updated_at', 'text', (column) => column.notNull())
        .addPrimaryKeyConstraint('end_user_contexts_pk', ['app_id', 'end_user_id'])
        .execute();
      await db.schema
        .createTable('tasks')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('project', 'text', (column) => column.notNull())
        .addColumn('api_key_id', 'text')
        .addColumn('app_id', 'text')
        .addColumn('end_user_id', 'text')
        .addColumn('username', 'text', (column) => column.notNull())
        .addColumn('session_id', 'text', (column) => column.notNull())
        .addColumn('conversation_id', 'text', (column) => column.notNull())
        .addColumn('status', 'text', (column) => column.notNull())
        .addColumn('message', 'text', (column) => column.notNull())
        .addColumn('system_prompt', 'text')
        .addColumn('show_in_history', 'integer', (column) => column.notNull())
        .addColumn('auto_execute', 'integer', (column) => column.notNull())
        .addColumn('env', 'text')
        .addColumn('has_secrets', 'integer', (column) => column.notNull())
        .addColumn('error', 'text')
        .addColumn('created_at', 'text', (column) => column.notNull())
        .addColumn('started_at', 'text')
        .addColumn('completed_at', 'text')
        .addColumn('last_activity_at', 'text', (column) => column.notNull())
        .addColumn('message_count', 'integer', (column) => column.notNull())
        .addColumn('state', 'text', (column) => column.notNull())
        .addColumn('runner_id', 'text')
        .addColumn('lease_until', 'text')
        .execute();
      await db.schema
        .createIndex('tasks_scope_activity')
        .on('tasks')
        .columns(['project', 'app_id', 'end_user_id', 'last_activity_at'])
        .execute();
      await db.schema.createIndex('tasks_status').on('tasks').column('status').execute();
      await db.schema
        .createTable('task_events')
        .addColumn('task_id', 'text', (column) => column.notNull())
        .addColumn('seq', 'integer', (column) => column.notNull())
        .addColumn('event', 'text', (column) => column.notNull())
        .addColumn('data', 'text', (column) => column.notNull())
        .addColumn('created_at', 'text', (column) => column.notNull())
        .addPrimaryKeyConstraint('task_events_pk', ['task_id', 'seq'])
        .execute();
      await sql`select 1`.execute(db);
    },
  },
  '0002_task_secret_fingerprints': {
    async up(db: Kysely<unknown>) {
      // Keyed fingerprints of the task's secrets (runtime/secrets/secret-fingerprints.ts), never the values.
      await db.schema.alterTable('tasks').addColumn('secret_fingerprints', 'text').execute();
    },
  },
  '0003_rate_limit_hits': {
    async up(db: Kysely<unknown>) {
      // Widget rate limits shared by every server (services/rate-limiter.ts): one row per counted hit.
      await db.schema
        .createTable('rate_limit_hits')
        .addColumn('key', 'text', (column) => column.notNull())
        .addColumn('at', 'bigint', (column) => column.notNull())
        .addColumn('expires_at', 'bigint', (column) => column.notNull())
        .execute();
      await db.schema.createIndex('rate_limit_hits_key_at').on('rate_limit_hits').columns(['key', 'at']).execute();
      await db.schema.createIndex('rate_limit_hits_expires_at').on('rate_limit_hits').column('expires_at').execute();
    },
  },
  '0004_servers': {
    async up(db: Kysely<unknown>) {
      // Which server keeps a task's secrets in memory, and which servers are alive (store/servers-repository.ts).
      await db.schema
        .createTable('servers')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('started_at', 'text', (column) => column.notNull())
        .addColumn('last_seen_at', 'text', (column) => column.notNull())
        .execute();
      await db.schema.alterTable('tasks').addColumn('secrets_server_id', 'text').execute();
      // Facts about the deployment (the name of the shared data dir: store/check-shared-data-dir.ts).
      await db.schema
        .createTable('settings')
        .addColumn('key', 'text', (column) => column.primaryKey())
        .addColumn('value', 'text', (column) => column.notNull())
        .execute();
    },
  },
};

const provider: MigrationProvider = { getMigrations: async () => migrations };

/** Brings the schema up to date; throws with the failing migration's name. */
export async function migrateToLatest(db: Kysely<unknown>): Promise<void> {
  const migrator = new Migrator({ db, provider });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((result) => result.status === 'Error');
  if (error) throw new Error(`Database migration ${failed?.migrationName ?? ''} failed: ${String(error)}`, { cause: error });
}
