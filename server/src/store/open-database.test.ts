import pg from 'pg';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { createTestDatabase } from '../testing/create-test-database.ts';
import { openDatabase } from './open-database.ts';

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

describe('openDatabase on PostgreSQL', () => {
  it('survives an idle connection being killed by the server and reconnects on next use', async () => {
    const created = await createTestDatabase(inject('databaseUrl'));
    cleanup.push(created.drop);
    const errors: Error[] = [];
    const database = await openDatabase({ dataDir: '/nonexistent', databaseUrl: created.url, onConnectionError: (error) => errors.push(error) });
    cleanup.push(database.close);
    await database.db.selectFrom('projects').selectAll().execute();

    const admin = new pg.Client({ connectionString: inject('databaseUrl') });
    await admin.connect();
    try {
      const killed = await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [
        new URL(created.url).pathname.slice(1),
      ]);
      expect(killed.rowCount).toBeGreaterThan(0);
    } finally {
      await admin.end();
    }
    for (let i = 0; i < 50 && errors.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(errors[0]?.message).toMatch(/terminating connection/);
    await expect(database.db.selectFrom('projects').selectAll().execute()).resolves.toEqual([]);
  });
});
