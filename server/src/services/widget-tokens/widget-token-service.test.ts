
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { createLogger } from '../../logging/logger.ts';
import { createEndUserContextsRepository } from '../../store/end-user-contexts-repository.ts';
import type { OpenedDatabase } from '../../store/open-database.ts';
import { openTestDatabase, type TestDatabase } from '../../testing/open-test-database.ts';
import { createProjectsRepository } from '../../store/projects-repository.ts';
import { createWidgetAppsRepository } from '../../store/widget-apps-repository.ts';
import { createRateLimiter } from '../rate-limiter.ts';
import { createWidgetAppsService } from '../widget-apps/widget-apps-service.ts';
import { createEndUserContextStore } from './end-user-context-store.ts';
import { createSecretBox } from './secret-box.ts';
import { createSigningKeys } from './signing-keys.ts';
import { verifyWidgetJwt } from './widget-jwt.ts';
import { createWidgetTokenService } from './widget-token-service.ts';

const SECRETS = ['k'.repeat(48)];
let database: OpenedDatabase;
let lines: string[];

async function setup(options: { configured?: boolean } = {}) {
  const logger = createLogger({ level: 'debug', write: (line) => lines.push(line) });
  const projects = createProjectsRepository(database.db);
  const apps = createWidgetAppsService({ apps: createWidgetAppsRepository(database.db), projects });
  const contexts = createEndUserContextStore({ repository: createEndUserContextsRepository(database.db), box: createSecretBox(SECRETS), logger });
  const keys = createSigningKeys(SECRETS);
  const configured = options.configured ?? true;
  const tokens = createWidgetTokenService({
    apps,
    contexts: configured ? contexts : undefined,
    keys: configured ? keys : undefined,
    projects,
    limiter: createRateLimiter({ db: database.db, kind: database.kind }),
    logger,
  });
  const app = await apps.create({ project: 'shop', name: 'Shop', origins: ['https://shop.example.com'] });
  const valid = { appId: app.id, appSecret: app.secret, endUserId: 'user-1' };
  return { tokens, app, valid, keys, contexts, projects };
}

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

  describe('createWidgetTokenService', () => {
    it('mints a one-hour token by default for the app’s end user and project', async () => {
      const { tokens, valid, keys, app } = await setup();
      const before = Date.now();
      const result = await tokens.exchange(valid);
      expect(result.token).toMatch(/^eyJ/);
      expect(result.expiresAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      const lifetime = new Date(result.expiresAt).getTime() - before;
      expect(lifetime).toBeGreaterThan(3_598_000);
      expect(lifetime).toBeLessThanOrEqual(3_601_000);
      await expect(verifyWidgetJwt(keys, result.token)).resolves.toMatchObject({ endUserId: 'user-1', appId: app.id, project: 'shop' });
    });

    it.each([
      ['30m', 1_800_000],
      ['90s', 90_000],
      ['24h', 86_400_000],
      ['7d', 7 * 86_400_000],
      ['1d', 86_400_000],
    ])('honours expiresIn %s', async (expiresIn, ms) => {
      const { tokens, valid } = await setup();
      const before = Date.now();
      const { expiresAt } = await tokens.exchange({ ...valid, expiresIn });
      expect(Math.abs(new Date(expiresAt).getTime() - before - ms)).toBeLessThan(2_000);
    });

    it.each([
      [{ appId: undefined }, 'MISSING_CREDENTIALS', 400],
      [{ appSecret: undefined }, 'MISSING_CREDENTIALS', 400],
      [{ appId: '' }, 'MISSING_CREDENTIALS', 400],
      [{ appSecret: 42 }, 'MISSING_CREDENTIALS', 400],
      [{ endUserId: undefined }, 'MISSING_END_USER_ID', 400],
      [{ endUserId: '   ' }, 'MISSING_END_USER_ID', 400],
      [{ endUserId: 7 }, 'MISSING_END_USER_ID', 400],
      [{ endUserId: 'x'.repeat(257) }, 'VALIDATION_ERROR', 400],
      [{ endUserId: 'line\nbreak' }, 'VALIDATION_ERROR', 400],
      [{ expiresIn: '1 hour' }, 'INVALID_EXPIRES_IN', 400],
      [{ expiresIn: '8d' }, 'INVALID_EXPIRES_IN', 400],
      [{ expiresIn: '169h' }, 'INVALID_EXPIRES_IN', 400],
      [{ expiresIn: 3600 }, 'INVALID_EXPIRES_IN', 400],
      [{ expiresIn: '0h' }, 'INVALID_EXPIRES_IN', 400],
      [{ env: { '1BAD': 'x' } }, 'INVALID_ENV', 400],
      [{ env: { GOOD: 1 } }, 'INVALID_ENV', 400],
      [{ env: ['A=b'] }, 'INVALID_ENV', 400],
      [{ secrets: { 'BAD-NAME': 'x' } }, 'INVALID_ENV', 400],
      [{ secrets: 'TOKEN=x' }, 'INVALID_ENV', 400],
      [{ appSecret: `cs_${'0'.repeat(64)}` }, 'INVALID_CREDENTIALS', 401],
      [{ appId: 'app_000000000000000000000000' }, 'INVALID_CREDENTIALS', 401],
    ])('answers %o with %s', async (change, code, status) => {
      const { tokens, valid } = await setup();
      await expect(tokens.exchange({ ...valid, ...change })).rejects.toMatchObject({ code, status });
    });

    it('checks the body before the credentials (a bad body with bad credentials is a 400)', async () => {
      const { tokens, valid } = await setup();
      await expect(tokens.exchange({ ...valid, appSecret: `cs_${'0'.repeat(64)}`, expiresIn: 'soon' })).rejects.toMatchObject({ code: 'INVALID_EXPIRES_IN' });
    });

    it('never echoes a secret value in an INVALID_ENV message', async () => {
      const { tokens, valid } = await setup();
      const error = await tokens.exchange({ ...valid, secrets: { OK: 'sup3r-s3cret-value', 'BAD NAME': 'other-s3cret' } }).catch((caught: Error) => caught);
      expect(error).toMatchObject({ code: 'INVALID_ENV' });
      expect((error as Error).message).not.toMatch(/s3cret/);
    });

    it('answers JWT_NOT_CONFIGURED (501) when the server has no signing secret', async () => {
      const { tokens, valid } = await setup({ configured: false });
      await expect(tokens.exchange(valid)).rejects.toMatchObject({ code: 'JWT_NOT_CONFIGURED', status: 501 });
    });

    it('stores env and secrets sealed for the end user, keeps them out of the token and the log, and replaces them on the next exchange', async () => {
      const { tokens, valid, contexts, app } = await setup();
      const { token } = await tokens.exchange({ ...valid, env: { TENANT: 'tenant-east-42' }, secrets: { CRM_TOKEN: 'crm-s3cret-9f8e7d' } });
      for (const part of token.split('.').slice(0, 2)) {
        const decoded = Buffer.from(part, 'base64url').toString('utf8');
        expect(decoded).not.toContain('tenant-east-42');
        expect(decoded).not.toContain('crm-s3cret-9f8e7d');
        expect(decoded).not.toMatch(/TENANT|CRM_TOKEN/);
      }
      const stored = await database.db.selectFrom('end_user_contexts').selectAll().execute();
      expect(stored).toHaveLength(1);
      expect(JSON.stringify(stored)).not.toMatch(/tenant-east-42|crm-s3cret-9f8e7d|TENANT|CRM_TOKEN/);
      await expect(contexts.load(app.id, 'user-1')).resolves.toEqual({ env: { TENANT: 'tenant-east-42' }, secrets: { CRM_TOKEN: 'crm-s3cret-9f8e7d' } });
      expect(lines.join('\n')).not.toMatch(/tenant-east-42|crm-s3cret-9f8e7d/);

      await tokens.exchange({ ...valid, env: { TENANT: 'tenant-west' } });
      await expect(contexts.load(app.id, 'user-1')).resolves.toEqual({ env: { TENANT: 'tenant-west' }, secrets: {} });
      await tokens.exchange(valid);
      await expect(contexts.load(app.id, 'user-1')).resolves.toEqual({ env: {}, secrets: {} });
      expect(await database.db.selectFrom('end_user_contexts').selectAll().execute()).toEqual([]);
    });

    it('limits token exchanges per app (60 a minute by default) with RATE_LIMITED and Retry-After, counting only valid credentials', async () => {
      const { tokens, valid } = await setup();
      for (let index = 0; index < 5; index++) await tokens.exchange({ ...valid, appSecret: `cs_${'0'.repeat(64)}` }).catch(() => undefined);
      for (let index = 0; index < 60; index++) await tokens.exchange({ ...valid, endUserId: `user-${index}` });
      const error = await tokens.exchange(valid).catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: 'RATE_LIMITED', status: 429 });
      expect(Number((error as { headers: Record<string, string> }).headers['Retry-After'])).toBeGreaterThanOrEqual(1);
    });

    it('uses the project’s rateLimits.tokenPerMinute', async () => {
      const { tokens, valid, projects } = await setup();
      const project = (await projects.find('shop'))!;
      await projects.upsert('shop', { ...project.config, rateLimits: { tokenPerMinute: 2 } });
      await tokens.exchange(valid);
      await tokens.exchange(valid);
      await expect(tokens.exchange(valid)).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    });
  });
});
