import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSse } from '../../testing/read-sse.ts';
import { startTestServer, type TestServer } from '../../testing/start-test-server.ts';
import { callApi, createTestWidgetApp, exchangeTestToken } from '../../testing/widget-test-kit.ts';
import { CORS_ALLOWED_HEADERS } from './cors.ts';

const SHOP = 'https://shop.example.com';
const WILDCARD = 'https://*.example.org';
const BLOG = 'http://localhost:4000';

let server: TestServer;
let shopToken: string;
let blogToken: string;

beforeAll(async () => {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'concierge-cors-'));
  const shop = await createTestWidgetApp(dataDir, { project: 'default', origins: [SHOP, WILDCARD] });
  const blog = await createTestWidgetApp(dataDir, { project: 'default', origins: [BLOG] });
  server = await startTestServer({}, { dataDir });
  shopToken = (await exchangeTestToken(server.url, { appId: shop.appId, appSecret: shop.appSecret, endUserId: 'alice' })).token;
  blogToken = (await exchangeTestToken(server.url, { appId: blog.appId, appSecret: blog.appSecret, endUserId: 'alice' })).token;
});
afterAll(async () => {
  await server?.close();
});

const preflight = (origin: string, requestPath = '/api/v1/tasks') =>
  callApi(server.url, 'OPTIONS', requestPath, { headers: { Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization, content-type, last-event-id' } });

describe('cors (preflight)', () => {
  it.each([
    ['an exact allowed origin', SHOP],
    ['a wildcard match', 'https://eu.example.org'],
    ['a deeper wildcard match', 'https://a.b.example.org'],
    ['another app’s origin', BLOG],
  ])('answers 204 for %s with the allowed methods and headers', async (_label, origin) => {
    const answer = await preflight(origin);
    expect(answer.status).toBe(204);
    expect(answer.headers.get('access-control-allow-origin')).toBe(origin);
    expect(answer.headers.get('access-control-allow-methods')).toBe('GET, POST, DELETE, OPTIONS');
    expect(answer.headers.get('access-control-allow-headers')).toBe(CORS_ALLOWED_HEADERS);
    expect(answer.headers.get('access-control-allow-headers')).toMatch(/Authorization.*Last-Event-ID/);
    expect(Number(answer.headers.get('access-control-max-age'))).toBeGreaterThan(0);
    expect(answer.headers.get('vary')).toMatch(/Origin/);
    expect(answer.headers.get('access-control-allow-credentials')).toBeNull();
  });

  it('refuses unknown origins, the wildcard’s apex, other schemes and ports, look-alikes and null with 403 and no CORS headers', async () => {
    const refused = ['https://evil.example.net', 'https://example.org', 'http://shop.example.com', 'https://shop.example.com:8443', 'https://shop.example.com.evil.net', 'null'];
    // Concurrently: unknown origins share one delayed reload of the origin set.
    const answers = await Promise.all(refused.map((origin) => preflight(origin)));
    for (const [index, answer] of answers.entries()) {
      const origin = refused[index];
      expect({ origin, status: answer.status, code: answer.body.error.code }).toEqual({ origin, status: 403, code: 'ORIGIN_NOT_ALLOWED' });
      expect(answer.headers.get('access-control-allow-origin')).toBeNull();
      expect(answer.headers.get('vary')).toMatch(/Origin/);
    }
  });

  it('answers preflights for task sub-resources (stream, approve, cancel)', async () => {
    for (const requestPath of ['/api/v1/tasks/abc/stream', '/api/v1/tasks/abc/tools/call_1/approve', '/api/v1/tasks/abc']) {
      expect((await preflight(SHOP, requestPath)).status).toBe(204);
    }
  });
});

describe('cors (origin matrix on widget-token requests)', () => {
  const list = (token: string, origin?: string) =>
    callApi(server.url, 'GET', '/api/v1/tasks', { headers: { Authorization: `Bearer ${token}`, ...(origin !== undefined ? { Origin: origin } : {}) } });

  it.each([
    ['the exact origin', SHOP],
    ['a wildcard subdomain', 'https://eu.example.org'],
    ['the exact origin in another case', 'https://SHOP.example.com'],
  ])('accepts %s and echoes it with Vary: Origin', async (_label, origin) => {
    const answer = await list(shopToken, origin);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('access-control-allow-origin')).toBe(origin);
    expect(answer.headers.get('vary')).toMatch(/Origin/);
    expect(answer.headers.get('access-control-expose-headers')).toMatch(/Retry-After/);
  });

  // Concurrent: unknown origins share one delayed reload of the origin set.
  it.concurrent.for<[string, string | undefined]>([
    ['a missing Origin', undefined],
    ['an unknown origin', 'https://evil.example.net'],
    ['the wildcard’s apex', 'https://example.org'],
    ['http instead of https', 'http://shop.example.com'],
    ['another port', 'https://shop.example.com:444'],
    ['another app’s origin', BLOG],
    ['the null origin', 'null'],
  ])('answers 403 ORIGIN_NOT_ALLOWED for %s', async ([_label, origin], { expect }) => {
    const answer = await list(shopToken, origin);
    expect(answer.status).toBe(403);
    expect(answer.body).toEqual({ success: false, error: { code: 'ORIGIN_NOT_ALLOWED', message: expect.any(String) } });
  });

  it('keeps the apps apart: the blog token works from the blog only', async () => {
    expect((await list(blogToken, BLOG)).status).toBe(200);
    expect((await list(blogToken, SHOP)).status).toBe(403);
  });

  it('echoes the origin on a 401 too, so the widget can read it and refresh its token', async () => {
    const answer = await list('eyJhbGciOiJIUzI1NiJ9.e30.bad', SHOP);
    expect(answer.status).toBe(401);
    expect(answer.body.error.code).toBe('INVALID_TOKEN');
    expect(answer.headers.get('access-control-allow-origin')).toBe(SHOP);
  });

  it('carries the CORS headers on the SSE stream', async () => {
    const created = await callApi(server.url, 'POST', '/api/v1/tasks', { headers: { Authorization: `Bearer ${shopToken}`, Origin: SHOP }, body: { message: 'hello' } });
    expect(created.status).toBe(200);
    const response = await fetch(`${server.url}/api/v1/tasks/${created.body.data.id}/stream`, { headers: { Authorization: `Bearer ${shopToken}`, Origin: SHOP } });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe(SHOP);
    expect(response.headers.get('vary')).toMatch(/Origin/);
    await response.body?.cancel();
    const events = await readSse(`${server.url}/api/v1/tasks/${created.body.data.id}/stream`, { Authorization: `Bearer ${shopToken}`, Origin: SHOP });
    expect(events.map((event) => event.event)).toContain('history_done');
  });

  it('leaves API-key calls alone, with or without an Origin', async () => {
    const headers = { Authorization: `Bearer ${server.apiKey}` };
    expect((await callApi(server.url, 'GET', '/api/v1/tasks', { headers })).status).toBe(200);
    const foreign = await callApi(server.url, 'GET', '/api/v1/tasks', { headers: { ...headers, Origin: 'https://evil.example.net' } });
    expect(foreign.status).toBe(200);
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
    expect((await callApi(server.url, 'GET', '/api/v1/tasks', { headers: { 'X-API-Key': server.apiKey, Origin: SHOP } })).status).toBe(200);
  });

  it('answers INVALID_AUTH_FORMAT for other bearer values and AUTH_REQUIRED for none, from an allowed origin', async () => {
    expect((await callApi(server.url, 'GET', '/api/v1/tasks', { headers: { Authorization: 'Bearer abc', Origin: SHOP } })).body.error.code).toBe('INVALID_AUTH_FORMAT');
    expect((await callApi(server.url, 'GET', '/api/v1/tasks', { headers: { Origin: SHOP } })).body.error.code).toBe('AUTH_REQUIRED');
  });
});
