import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type OpenedDatabase, openDatabase } from '../store/open-database.ts';
import { createTestDatabase } from './create-test-database.ts';

export interface TestDatabase {
  database: OpenedDatabase;
  dataDir: string;
  /** Closes the database, drops it (PostgreSQL) and removes the data dir. */
  close(): Promise<void>;
}

/** A fresh, migrated database of the given kind with its own data dir (PostgreSQL from the test cluster). */
export async function openTestDatabase(kind: 'sqlite' | 'postgres', postgresUrl: string): Promise<TestDatabase> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'concierge-db-'));
  const created = kind === 'postgres' ? await createTestDatabase(postgresUrl) : undefined;
  const database = await openDatabase({ dataDir, databaseUrl: created?.url });
  return {
    database,
    dataDir,
    async close() {
      await database.close();
      await created?.drop();
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}
