
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { createLogger } from '../../logging/logger.ts';
import { createEndUserContextsRepository } from '../../store/end-user-contexts-repository.ts';
import type { OpenedDatabase } from '../../store/open-database.ts';
import { openTestDatabase, type TestDatabase } from '../../testing/open-test-database.ts';
import { createEndUserContextStore } from './end-user-context-store.ts';
import { createSecretBox } from './secret-box.ts';

let database: OpenedDatabase;
let lines: string[];
const store = (secrets: string[]) =>
  createEndUserContextStore({
    repository: createEndUserContextsRepository(database.db),
    box: createSecretBox(secrets),
    logger: createLogger({ level: 'debug', write: (line) => lines.push(line) }),
  });

let testDatabase: TestDatabase;

describe.each(['sqlite', 'postgres'] as const)('on %s', (kind) => {
  beforeEach(async () => {
    testDatabase = await openTestDatabase(kind, inject('databaseUrl'));
    ({ database } = testDatabase);
    lines = [];
  });
  afterEach(async () => {
    await testDatabase.close();
  });

  describe('createEndUserContextStore', () => {
    const context = { env: { REGION: 'eu' }, secrets: { TOKEN: 'tok-123-secret' } };

    it('keeps each end user’s context apart and empty for unknown end users', async () => {
      const contexts = store(['a'.repeat(40)]);
      await contexts.save('app_1', 'alice', context);
      await expect(contexts.load('app_1', 'alice')).resolves.toEqual(context);
      await expect(contexts.load('app_1', 'bob')).resolves.toEqual({ env: {}, secrets: {} });
      await expect(contexts.load('app_2', 'alice')).resolves.toEqual({ env: {}, secrets: {} });
    });

    it('refuses a sealed row copied to another end user (bound to app and end user) and logs it without values', async () => {
      const contexts = store(['a'.repeat(40)]);
      await contexts.save('app_1', 'alice', context);
      const { sealed } = await database.db.selectFrom('end_user_contexts').select('sealed').executeTakeFirstOrThrow();
      await createEndUserContextsRepository(database.db).put('app_1', 'mallory', sealed, new Date().toISOString());
      await expect(contexts.load('app_1', 'mallory')).resolves.toEqual({ env: {}, secrets: {} });
      expect(lines.some((line) => line.includes('"level":"warn"'))).toBe(true);
      expect(lines.join('\n')).not.toContain('tok-123-secret');
    });

    it('opens contexts sealed under a rotated-out-but-listed secret, and runs without them once it is removed', async () => {
      await store(['a'.repeat(40)]).save('app_1', 'alice', context);
      await expect(store(['b'.repeat(40), 'a'.repeat(40)]).load('app_1', 'alice')).resolves.toEqual(context);
      await expect(store(['b'.repeat(40)]).load('app_1', 'alice')).resolves.toEqual({ env: {}, secrets: {} });
    });
  });
});
