import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { openTestDatabase, type TestDatabase } from '../testing/open-test-database.ts';
import { checkSharedDataDir } from './check-shared-data-dir.ts';

describe('checkSharedDataDir on PostgreSQL', () => {
  let first: TestDatabase;
  let dirs: string[] = [];
  const newDir = async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'concierge-datadir-'));
    dirs.push(dir);
    return dir;
  };
  beforeEach(async () => {
    first = await openTestDatabase('postgres', inject('databaseUrl'));
  });
  afterEach(async () => {
    await first.close();
    for (const dir of dirs) await fs.rm(dir, { recursive: true, force: true });
    dirs = [];
  });

  it('names the first server’s data dir, accepts it again, and warns about any other', async () => {
    const shared = await newDir();
    expect(await checkSharedDataDir(first.database.db, shared)).toBeUndefined();
    expect(await checkSharedDataDir(first.database.db, shared)).toBeUndefined();
    const own = await newDir();
    expect(await checkSharedDataDir(first.database.db, own)).toMatch(/The data dir .* is not the one the other servers of this PostgreSQL database use \(its data-dir-id file is missing\)/);
    // Warning does not make the stray dir the shared one.
    expect(await checkSharedDataDir(first.database.db, own)).toMatch(/is missing/);
    expect(await checkSharedDataDir(first.database.db, shared)).toBeUndefined();
  });

  it('warns about a data dir named by another database', async () => {
    const other = await openTestDatabase('postgres', inject('databaseUrl'));
    try {
      const dir = await newDir();
      expect(await checkSharedDataDir(other.database.db, dir)).toBeUndefined();
      await checkSharedDataDir(first.database.db, await newDir());
      expect(await checkSharedDataDir(first.database.db, dir)).toMatch(/names another data dir/);
    } finally {
      await other.close();
    }
  });
});
