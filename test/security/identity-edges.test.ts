import fs from 'node:fs/promises';
import path from 'node:path';
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSigningKeys } from '../../server/src/services/widget-tokens/signing-keys.ts';
import { WIDGET_JWT_AUDIENCE, WIDGET_JWT_ISSUER } from '../../server/src/services/widget-tokens/widget-jwt.ts';
import { type ApiClient, createApiClient, request } from '../support/api-client.ts';
import { createGate, type FakeModel, startFakeModel } from '../support/fake-model.ts';
import { type SpawnedConcierge, spawnConcierge } from '../support/spawn-concierge.ts';
import { newMarker } from './agent-harness.ts';

// Identity edges against a real server process: forged-but-validly-signed widget tokens with bad claims,
// revocation reaching streams that are already open, NUL in env, malformed percent-encodings, file modes.

const ORIGIN = 'http://127.0.0.1:5999';
let fake: FakeModel;
let server: SpawnedConcierge;
let api: ApiClient;
let app: { appId: string; appSecret: string; project: string };

beforeAll(async () => {
  fake = await startFakeModel();
  server = await spawnConcierge({ llmBaseUrl: fake.url, env: { LOG_LEVEL: 'info' } });
  api = createApiClient(server.url, (await server.createApiKey()).key);
  const created = await server.cli(['apps', 'create', '--project', 'default', '--name', 'edges', '--origin', ORIGIN, '--json']);
  if (created.code !== 0) throw new Error(`apps create failed: ${created.stderr}`);
  app = JSON.parse(created.stdout);
});

afterAll(async () => {
  await server?.stop();
  await fake?.close();
});

/** A token signed with the server's real generated secret, so only the chosen claims can be wrong. */
async function forge(claims: { iat: number; exp: number }): Promise<string> {
  const secret = (await fs.readFile(path.join(server.dataDir, 'jwt-secret'), 'utf8')).trim();
  const key = createSigningKeys([secret]).current;
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const payload = { app: app.appId, project: app.project, iss: WIDGET_JWT_ISSUER, aud: WIDGET_JWT_AUDIENCE, sub: 'visitor-1', jti: `jti-${claims.iat}-${claims.exp}`, ...claims };
  const signed = `${part({ alg: 'HS256', typ: 'JWT', kid: key.id })}.${part(payload)}`;
  return `${signed}.${createHmac('sha256', key.key).update(signed).digest('base64url')}`;
}

const listWith = (token: string) => api.call('GET', '/tasks', undefined, { authorization: `Bearer ${token}`, origin: ORIGIN });

/** A task whose model waits until `release`, so its stream stays open. */
async function heldTask(headers: Record<string, string> = {}) {
  const marker = newMarker('held');
  const gate = createGate();
  fake.scenario(marker, async () => {
    await gate.promise;
    return { text: 'released' };
  });
  const created = await api.call('POST', '/tasks', { message: `hold ${marker}` }, headers);
  expect(created.status).toBe(200);
  return { taskId: created.body.data.id as string, release: () => gate.open() };
}

describe('widget JWT claims', () => {
  it('refuses a token issued in the future or living longer than 7 days, signed with the real secret', async () => {
    const now = Math.floor(Date.now() / 1000);
    expect((await listWith(await forge({ iat: now, exp: now + 3600 }))).status).toBe(200);
    const future = await listWith(await forge({ iat: now + 3600, exp: now + 7200 }));
    expect(future.status).toBe(401);
    expect(future.body.error.code).toBe('INVALID_TOKEN');
    const tooLong = await listWith(await forge({ iat: now, exp: now + 8 * 86_400 }));
    expect(tooLong.status).toBe(401);
    expect(tooLong.body.error.code).toBe('INVALID_TOKEN');
  });
});

describe('revocation reaches open streams', () => {
  it('ends an open stream with an error event when its API key is revoked', async () => {
    const key = await server.createApiKey('default', ['--name', 'to-revoke']);
    const own = createApiClient(server.url, key.key);
    const { taskId, release } = await heldTask({ authorization: `Bearer ${key.key}` });
    try {
      const streaming = own.stream(taskId, { timeoutMs: 30_000 });
      await own.waitForStatus(taskId, 'running');
      const revoked = await server.cli(['keys', 'revoke', key.id, '--json']);
      expect(revoked.code).toBe(0);
      const events = await streaming;
      expect(events.at(-1)).toMatchObject({ event: 'error', data: { code: 'INVALID_API_KEY' } });
    } finally {
      release();
    }
  });

  it('ends an open widget stream with an error event when its app is revoked', async () => {
    const created = await server.cli(['apps', 'create', '--project', 'default', '--name', 'doomed', '--origin', ORIGIN, '--json']);
    const doomed = JSON.parse(created.stdout) as { appId: string; appSecret: string };
    const exchange = await request(`${server.url}/api/v1/auth/token`, { method: 'POST', body: { appId: doomed.appId, appSecret: doomed.appSecret, endUserId: 'visitor-2' } });
    expect(exchange.status).toBe(200);
    const headers = { authorization: `Bearer ${exchange.body.data.token}`, origin: ORIGIN };
    const { taskId, release } = await heldTask(headers);
    try {
      const streaming = api.stream(taskId, { headers, timeoutMs: 30_000 });
      await api.waitForStatus(taskId, 'running');
      const revoked = await server.cli(['apps', 'revoke', doomed.appId, '--json']);
      expect(revoked.code).toBe(0);
      const events = await streaming;
      // Whichever comes first ends it: the stream's own credential check, or the turn stopped for the revoked app.
      expect(events.at(-1)?.event).toBe('error');
      expect(['INVALID_TOKEN', 'APP_REVOKED']).toContain((events.at(-1)?.data as { code?: string } | undefined)?.code);
    } finally {
      release();
    }
  });
});

describe('revocation stops running work', () => {
  it('fails a widget task whose turn is running when its app is revoked (APP_REVOKED), and the task stays failed', async () => {
    const created = await server.cli(['apps', 'create', '--project', 'default', '--name', 'stopped', '--origin', ORIGIN, '--json']);
    const stopped = JSON.parse(created.stdout) as { appId: string; appSecret: string };
    const exchange = await request(`${server.url}/api/v1/auth/token`, { method: 'POST', body: { appId: stopped.appId, appSecret: stopped.appSecret, endUserId: 'visitor-3' } });
    expect(exchange.status).toBe(200);
    const { taskId, release } = await heldTask({ authorization: `Bearer ${exchange.body.data.token}`, origin: ORIGIN });
    try {
      await api.waitForStatus(taskId, 'running');
      expect((await server.cli(['apps', 'revoke', stopped.appId, '--json'])).code).toBe(0);
      // The model never answers: only the revocation can end this turn.
      const task = await api.waitForStatus(taskId, 'failed');
      expect(task.error).toMatch(/chat access was revoked/);
      const events = await api.stream(taskId, { query: '?after=0', timeoutMs: 10_000 });
      expect(events.at(-1)).toMatchObject({ event: 'error', data: { code: 'APP_REVOKED' } });
      // A model that answers late changes nothing.
      release();
      expect((await api.getTask(taskId)).status).toBe('failed');
    } finally {
      release();
    }
  });
});

describe('input edges', () => {
  it('answers 400 INVALID_ENV for a NUL in env on task creation and on the token exchange', async () => {
    const create = await api.call('POST', '/tasks', { message: 'hi', env: { GREETING: 'a\u0000b' } });
    expect(create.status).toBe(400);
    expect(create.body.error.code).toBe('INVALID_ENV');
    const exchange = await request(`${server.url}/api/v1/auth/token`, {
      method: 'POST',
      body: { appId: app.appId, appSecret: app.appSecret, endUserId: 'visitor-3', env: { GREETING: 'a\u0000b' } },
    });
    expect(exchange.status).toBe(400);
    expect(exchange.body.error.code).toBe('INVALID_ENV');
  });

  it('answers 4xx, never 5xx, for malformed percent-encodings in the path or query', async () => {
    for (const url of [`${server.url}/widget/%`, `${server.url}/widget/%zz.js`, `${server.url}/api/v1/tasks/%`, `${server.url}/api/v1/tasks/%E0%A4%A/stream`, `${server.url}/api/v1/tasks?limit=%zz`]) {
      const answer = await request(url, { headers: api.auth });
      expect(answer.status, url).toBeGreaterThanOrEqual(400);
      expect(answer.status, url).toBeLessThan(500);
    }
  });

  it('creates the database files and the generated signing secret 0600', async () => {
    for (const name of ['concierge.db', 'concierge.db-wal', 'concierge.db-shm', 'jwt-secret']) {
      const stat = await fs.stat(path.join(server.dataDir, name));
      expect((stat.mode & 0o777).toString(8), name).toBe('600');
    }
  });
});
