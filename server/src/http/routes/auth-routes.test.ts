import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../testing/start-test-server.ts';
import { callApi, configureTestProject, createTestWidgetApp } from '../../testing/widget-test-kit.ts';

let servers: TestServer[] = [];
afterEach(async () => {
  for (const server of servers) await server.close();
  servers = [];
});

const ORIGIN = 'https://shop.example.com';

/** A server with one widget app (allowed origin ORIGIN) in `project`; `prepare` runs on the data dir before the start. */
async function start(options: { project?: string; prepare?: (dataDir: string) => Promise<void>; env?: Record<string, string> } = {}) {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'concierge-auth-route-'));
  const app = await createTestWidgetApp(dataDir, { project: options.project ?? 'shop', origins: [ORIGIN] });
  await options.prepare?.(dataDir);
  const server = await startTestServer({ CONCIERGE_SANDBOX: 'bwrap', ...options.env }, { dataDir });
  servers.push(server);
  return { server, app };
}

describe('POST /api/v1/auth/token', () => {
  it('answers {success, data: {token, expiresAt}} with no-store and no CORS headers', async () => {
    const { server, app } = await start();
    const answer = await callApi(server.url, 'POST', '/api/v1/auth/token', {
      body: { appId: app.appId, appSecret: app.appSecret, endUserId: 'alice', expiresIn: '30m' },
      headers: { Origin: ORIGIN },
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ success: true, data: { token: expect.stringMatching(/^eyJ[\w-]+\.[\w-]+\.[\w-]+$/), expiresAt: expect.stringMatching(/Z$/) } });
    expect(Object.keys(answer.body.data).sort()).toEqual(['expiresAt', 'token']);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(answer.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await callApi(server.url, 'OPTIONS', '/api/v1/auth/token', { headers: { Origin: ORIGIN, 'Access-Control-Request-Method': 'POST' } });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('answers every documented error code in the error envelope', async () => {
    const { server, app } = await start();
    const valid = { appId: app.appId, appSecret: app.appSecret, endUserId: 'alice' };
    const cases: [body: Record<string, unknown>, code: string, status: number][] = [
      [{ endUserId: 'alice' }, 'MISSING_CREDENTIALS', 400],
      [{ ...valid, appSecret: undefined }, 'MISSING_CREDENTIALS', 400],
      [{ ...valid, endUserId: undefined }, 'MISSING_END_USER_ID', 400],
      [{ ...valid, endUserId: '' }, 'MISSING_END_USER_ID', 400],
      [{ ...valid, appSecret: `cs_${'1'.repeat(64)}` }, 'INVALID_CREDENTIALS', 401],
      [{ ...valid, appId: 'app_ffffffffffffffffffffffff' }, 'INVALID_CREDENTIALS', 401],
      [{ ...valid, expiresIn: 'tomorrow' }, 'INVALID_EXPIRES_IN', 400],
      [{ ...valid, expiresIn: '30d' }, 'INVALID_EXPIRES_IN', 400],
      [{ ...valid, env: { 'NOT-VALID': 'x' } }, 'INVALID_ENV', 400],
      [{ ...valid, secrets: { TOKEN: 123 } }, 'INVALID_ENV', 400],
    ];
    for (const [body, code, status] of cases) {
      const answer = await callApi(server.url, 'POST', '/api/v1/auth/token', { body });
      expect({ code, status: answer.status, body: answer.body }).toEqual({ code, status, body: { success: false, error: { code, message: expect.any(String) } } });
    }
    const form = await fetch(`${server.url}/api/v1/auth/token`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'appId=x' });
    expect(form.status).toBe(415);
    const broken = await fetch(`${server.url}/api/v1/auth/token`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"appId":' });
    expect(((await broken.json()) as { error: { code: string } }).error.code).toBe('VALIDATION_ERROR');
  });

  it('answers 429 RATE_LIMITED with Retry-After past the project’s tokenPerMinute', async () => {
    const { server, app } = await start({ prepare: (dataDir) => configureTestProject(dataDir, 'shop', { rateLimits: { tokenPerMinute: 3 } }) });
    const body = { appId: app.appId, appSecret: app.appSecret, endUserId: 'alice' };
    for (let index = 0; index < 3; index++) expect((await callApi(server.url, 'POST', '/api/v1/auth/token', { body })).status).toBe(200);
    const limited = await callApi(server.url, 'POST', '/api/v1/auth/token', { body });
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('RATE_LIMITED');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(60);
  });

  it('answers 501 JWT_NOT_CONFIGURED for exchanges and widget tokens when no secret can be set up, while API keys keep working', async () => {
    const { server, app } = await start({
      project: 'default',
      // A directory where the secret file should be: the secret can be neither read nor written.
      prepare: async (dataDir) => void (await fs.mkdir(path.join(dataDir, 'jwt-secret'))),
    });
    const exchange = await callApi(server.url, 'POST', '/api/v1/auth/token', { body: { appId: app.appId, appSecret: app.appSecret, endUserId: 'alice' } });
    expect(exchange.status).toBe(501);
    expect(exchange.body.error.code).toBe('JWT_NOT_CONFIGURED');
    const withJwt = await callApi(server.url, 'GET', '/api/v1/tasks', { headers: { Authorization: 'Bearer eyJhbGciOiJIUzI1NiJ9.e30.x', Origin: ORIGIN } });
    expect(withJwt.status).toBe(501);
    expect(withJwt.body.error.code).toBe('JWT_NOT_CONFIGURED');
    expect((await callApi(server.url, 'GET', '/api/v1/tasks', { headers: { Authorization: `Bearer ${server.apiKey}` } })).status).toBe(200);
    expect((await callApi(server.url, 'GET', '/healthz')).body.jwt).toBe('not configured');
  });

  it('signs with the first CONCIERGE_JWT_SECRET and still accepts tokens of the older ones (rotation without logging anyone out)', async () => {
    const oldSecret = 'o'.repeat(40);
    const newSecret = 'n'.repeat(40);
    const { server: first, app } = await start({ project: 'default', env: { CONCIERGE_JWT_SECRET: oldSecret } });
    const body = { appId: app.appId, appSecret: app.appSecret, endUserId: 'alice' };
    const oldToken = (await callApi(first.url, 'POST', '/api/v1/auth/token', { body })).body.data.token as string;
    await first.stop();
    const rotated = await startTestServer({ CONCIERGE_JWT_SECRET: `${newSecret},${oldSecret}` }, { dataDir: first.dataDir, apiKey: first.apiKey });
    servers.push(rotated);
    const headers = (token: string) => ({ Authorization: `Bearer ${token}`, Origin: ORIGIN });
    expect((await callApi(rotated.url, 'GET', '/api/v1/tasks', { headers: headers(oldToken) })).status).toBe(200);
    const newToken = (await callApi(rotated.url, 'POST', '/api/v1/auth/token', { body })).body.data.token as string;
    expect(JSON.parse(Buffer.from(newToken.split('.')[0]!, 'base64url').toString()).kid).not.toBe(JSON.parse(Buffer.from(oldToken.split('.')[0]!, 'base64url').toString()).kid);
    expect((await callApi(rotated.url, 'GET', '/api/v1/tasks', { headers: headers(newToken) })).status).toBe(200);
    await rotated.stop();
    const retired = await startTestServer({ CONCIERGE_JWT_SECRET: newSecret }, { dataDir: first.dataDir, apiKey: first.apiKey });
    servers.push(retired);
    expect((await callApi(retired.url, 'GET', '/api/v1/tasks', { headers: headers(oldToken) })).body.error.code).toBe('INVALID_TOKEN');
    expect((await callApi(retired.url, 'GET', '/api/v1/tasks', { headers: headers(newToken) })).status).toBe(200);
  });
});
