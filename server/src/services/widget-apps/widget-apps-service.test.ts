
import { afterEach, beforeEach, describe, expect, inject, it, vi } from 'vitest';
import type { OpenedDatabase } from '../../store/open-database.ts';
import { openTestDatabase, type TestDatabase } from '../../testing/open-test-database.ts';
import { createProjectsRepository } from '../../store/projects-repository.ts';
import { createWidgetAppsRepository } from '../../store/widget-apps-repository.ts';
import { APP_ID_PATTERN, APP_SECRET_PATTERN, createWidgetAppsService, hashAppSecret } from './widget-apps-service.ts';

let database: OpenedDatabase;
let onChange: ReturnType<typeof vi.fn<() => void>>;
let service: ReturnType<typeof createWidgetAppsService>;

let testDatabase: TestDatabase;

describe.each(['sqlite', 'postgres'] as const)('on %s', (kind) => {
  beforeEach(async () => {
    testDatabase = await openTestDatabase(kind, inject('databaseUrl'));
    ({ database } = testDatabase);
    onChange = vi.fn<() => void>();
    service = createWidgetAppsService({ apps: createWidgetAppsRepository(database.db), projects: createProjectsRepository(database.db), onChange });
  });
  afterEach(async () => {
    await testDatabase.close();
  });

  describe('createWidgetAppsService', () => {
    it('creates an app with an app_ id and a cs_ secret stored only as a hash, and creates the project', async () => {
      const app = await service.create({ project: 'shop', name: ' Shop ', origins: ['https://Shop.Example.com', 'https://*.example.org', 'https://shop.example.com/'] });
      expect(app.id).toMatch(APP_ID_PATTERN);
      expect(app.secret).toMatch(APP_SECRET_PATTERN);
      expect(app).toMatchObject({ project: 'shop', name: 'Shop', origins: ['https://shop.example.com', 'https://*.example.org'] });
      const row = await database.db.selectFrom('widget_apps').selectAll().where('id', '=', app.id).executeTakeFirstOrThrow();
      expect(row.secret_hash).toBe(hashAppSecret(app.secret));
      expect(JSON.stringify(row)).not.toContain(app.secret);
      expect(await createProjectsRepository(database.db).find('shop')).toBeDefined();
      expect(onChange).toHaveBeenCalledTimes(1);
    });

    it('refuses an empty name, no origins or a bad origin with VALIDATION_ERROR and stores nothing', async () => {
      await expect(service.create({ project: 'p', name: '  ', origins: ['https://a.example.com'] })).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
      await expect(service.create({ project: 'p', name: 'n', origins: [] })).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
      await expect(service.create({ project: 'p', name: 'n', origins: ['https://a.example.com', '*'] })).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
      expect(await database.db.selectFrom('widget_apps').selectAll().execute()).toEqual([]);
    });

    it('verifies credentials and answers INVALID_CREDENTIALS for a wrong secret, unknown app or malformed values', async () => {
      const app = await service.create({ project: 'p', name: 'n', origins: ['https://a.example.com'] });
      const other = await service.create({ project: 'p', name: 'm', origins: ['https://b.example.com'] });
      await expect(service.verifyCredentials(app.id, app.secret)).resolves.toMatchObject({ id: app.id, project: 'p' });
      for (const [id, secret] of [
        [app.id, other.secret],
        ['app_000000000000000000000000', app.secret],
        [app.id, `${app.secret}0`],
        [app.id, app.secret.toUpperCase()],
        ['not-an-app', app.secret],
      ] as const) {
        await expect(service.verifyCredentials(id, secret)).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS', status: 401, message: 'Invalid app credentials' });
      }
    });

    it('stops verifying and finding a revoked app, and lists only active origins', async () => {
      const app = await service.create({ project: 'p', name: 'n', origins: ['https://a.example.com'] });
      await service.create({ project: 'q', name: 'm', origins: ['https://b.example.com', 'https://a.example.com'] });
      expect((await service.listAllOrigins()).sort()).toEqual(['https://a.example.com', 'https://b.example.com']);
      await service.revoke(app.id);
      await expect(service.verifyCredentials(app.id, app.secret)).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
      await expect(service.find(app.id)).resolves.toBeUndefined();
      await expect(service.revoke('app_000000000000000000000000')).rejects.toMatchObject({ code: 'NOT_FOUND' });
      expect((await service.listAllOrigins()).sort()).toEqual(['https://a.example.com', 'https://b.example.com']);
    });
  });
});
