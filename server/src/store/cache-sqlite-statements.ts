import type SQLite from 'better-sqlite3';
import type { SqliteDatabase } from 'kysely';

/** Distinct statements kept prepared; the server issues a few dozen shapes, so this is never reached in practice. */
const MAX_STATEMENTS = 500;

/**
 * Kysely prepares every query anew, and on a busy event log SQLite spent more time compiling the same
 * INSERT than running it. This keeps each statement prepared once per SQL text (better-sqlite3 statements
 * are reusable, and its synchronous API never runs two at once). Schema changes only happen in migrations,
 * before the cache sees any traffic.
 */
export function cacheSqliteStatements(database: SQLite.Database): SqliteDatabase {
  const statements = new Map<string, SQLite.Statement>();
  return {
    close: () => database.close(),
    prepare(sql: string) {
      let statement = statements.get(sql);
      if (!statement) {
        if (statements.size >= MAX_STATEMENTS) statements.clear();
        statement = database.prepare(sql);
        statements.set(sql, statement);
      }
      return statement;
    },
  };
}
