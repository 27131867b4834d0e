import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type OpenedDatabase, openDatabase } from '../../store/open-database.ts';
import { createProjectsRepository } from '../../store/projects-repository.ts';
import { createWidgetAppsRepository } from '../../store/widget-apps-repository.ts';
import { createWidgetAppsService } from '../widget-apps/widget-apps-service.ts';
import { createSigningKeys } from './signing-keys.ts';
import { signWidgetJwt } from './widget-jwt.ts';
import { createWidgetTokenAuth } from './widget-token-auth.ts';

let dataDir: string;
let database: OpenedDatabase;
const keys = createSigningKeys(['q'.repeat(40)]);

beforeEach(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'concierge-auth-'));
  database = await openDatabase({ dataDir });
});
afterEach(async () => {
  await database.close();
  await fs.rm(dataDir, { recursive: true, force: true });
});

async function setup() {
  const apps = createWidgetAppsService({ apps: createWidgetAppsRepository(database.db), projects: createProjectsRepository(database.db) });
  const app = await apps.create({ project: 'shop', name: 'Shop', origins: ['https://shop.example.com', 'https://*.example.org'] });
  const auth = createWidgetTokenAuth({ keys, apps });
  const token = (await signWidgetJwt(keys, { endUserId: 'alice', appId: app.id, project: 'shop', lifetimeMs: 60_000 })).token;
  return { apps, app, auth, token };
}

describe('createWidgetTokenAuth', () => {
  it('returns the widget principal for an allowed origin (exact and wildcard)', async () => {
    const { auth, app, token } = await setup();
    const principal = { kind: 'widget', project: 'shop', appId: app.id, endUserId: 'alice' };
    await expect(auth.authenticate(token, 'https://shop.example.com')).resolves.toEqual(principal);
    await expect(auth.authenticate(token, 'https://eu.example.org')).resolves.toEqual(principal);
  });

  it.each([
    [undefined, /no Origin header/],
    ['https://evil.example.net', /not an allowed origin/],
    ['http://shop.example.com', /not an allowed origin/],
    ['https://example.org', /not an allowed origin/],
    ['null', /not an allowed origin/],
  ])('answers ORIGIN_NOT_ALLOWED (403) for origin %s', async (origin, message) => {
    const { auth, token } = await setup();
    await expect(auth.authenticate(token, origin)).rejects.toMatchObject({ code: 'ORIGIN_NOT_ALLOWED', status: 403, message: expect.stringMatching(message) });
  });

  it('checks the token before the origin (a bad token from a bad origin is INVALID_TOKEN)', async () => {
    const { auth } = await setup();
    await expect(auth.authenticate('eyJnope', 'https://evil.example.net')).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
  });

  it('answers INVALID_TOKEN once the app is revoked, or when the token’s project is not the app’s', async () => {
    const { auth, app, apps, token } = await setup();
    const crossProject = (await signWidgetJwt(keys, { endUserId: 'alice', appId: app.id, project: 'other', lifetimeMs: 60_000 })).token;
    await expect(auth.authenticate(crossProject, 'https://shop.example.com')).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    await apps.revoke(app.id);
    await expect(auth.authenticate(token, 'https://shop.example.com')).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
  });

  it('answers JWT_NOT_CONFIGURED (501) when the server has no signing secret', async () => {
    const { apps, token } = await setup();
    await expect(createWidgetTokenAuth({ keys: undefined, apps }).authenticate(token, 'https://shop.example.com')).rejects.toMatchObject({ code: 'JWT_NOT_CONFIGURED', status: 501 });
  });
});
