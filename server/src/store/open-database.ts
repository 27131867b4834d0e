import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { cacheSqliteStatements } from './cache-sqlite-statements.ts';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { migrateToLatest } from './migrations.ts';
import type { Database } from './schema.ts';

export interface OpenedDatabase {
  db: Kysely<Database>;
  kind: 'sqlite' | 'postgres';
  close(): Promise<void>;
}

/**
 * Creates the database file 0600 (or tightens an existing one) before SQLite opens it: SQLite gives the
 * -wal and -shm files the database file's mode, and would otherwise create all three 0644 under umask 022.
 */
function restrictToOwner(file: string): void {
  fs.closeSync(fs.openSync(file, 'a', 0o600));
  fs.chmodSync(file, 0o600);
  for (const companion of [`${file}-wal`, `${file}-shm`]) if (fs.existsSync(companion)) fs.chmodSync(companion, 0o600);
}

/** Opens SQLite in the data dir, or PostgreSQL when `databaseUrl` is set, and migrates it. */
export async function openDatabase(options: {
  dataDir: string;
  databaseUrl?: string | undefined;
  /** Told when an idle PostgreSQL connection drops (the pool replaces it on next use). */
  onConnectionError?: (error: Error) => void;
}): Promise<OpenedDatabase> {
  let db: Kysely<Database>;
  let kind: OpenedDatabase['kind'];
  if (options.databaseUrl) {
    kind = 'postgres';
    const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 10 });
    // Without a listener, a connection dropped by the server (restart, admin kill, a network cut) would
    // be an uncaught 'error' event and take the whole process down: the pool only listens while a
    // connection is idle, so each connection also gets its own listener for while it is checked out
    // (between the statements of a transaction). The statement under way fails on its own.
    pool.on('error', (error) => options.onConnectionError?.(error));
    pool.on('connect', (client) => client.on('error', (error) => options.onConnectionError?.(error)));
    db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  } else {
    kind = 'sqlite';
    fs.mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
    const file = path.join(options.dataDir, 'concierge.db');
    restrictToOwner(file);
    const sqlite = new SQLite(file);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('busy_timeout = 5000');
    sqlite.pragma('foreign_keys = ON');
    db = new Kysely<Database>({ dialect: new SqliteDialect({ database: cacheSqliteStatements(sqlite) }) });
  }
  await migrateToLatest(db as Kysely<unknown>);
  let closed = false;
  return {
    db,
    kind,
    async close() {
      if (closed) return;
      closed = true;
      await db.destroy();
    },
  };
}
