import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiClient, createApiClient, request } from '../support/api-client.ts';
import { createGate, type FakeModel, startFakeModel } from '../support/fake-model.ts';
import { type SpawnedConcierge, spawnConcierge } from '../support/spawn-concierge.ts';
import { waitFor } from '../support/wait-for.ts';

let fake: FakeModel;
let server: SpawnedConcierge;
let api: ApiClient;
let apiKey: string;
let taskId: string;

beforeAll(async () => {
  fake = await startFakeModel();
  server = await spawnConcierge({ llmBaseUrl: fake.url });
  apiKey = (await server.createApiKey()).key;
  api = createApiClient(server.url, apiKey);
  taskId = await api.createTask({ message: 'hello [errors]' });
  await api.waitForStatus(taskId, 'completed');
});

afterAll(async () => {
  await server?.stop();
  await fake?.close();
});

/** Asserts the Sigmic error envelope with this status and code. */
function expectError(response: { status: number; body: unknown }, status: number, code: string): void {
  expect(response.status, JSON.stringify(response.body)).toBe(status);
  expect(response.body).toEqual({ success: false, error: { code, message: expect.any(String) } });
  expect((response.body as { error: { message: string } }).error.message.length).toBeGreaterThan(0);
}

const tasksUrl = () => `${server.url}/api/v1/tasks`;

describe('authentication errors', () => {
  it('answers 401 AUTH_REQUIRED on every endpoint when no credential is sent', async () => {
    const calls: Array<[string, string]> = [
      ['POST', '/tasks'],
      ['GET', '/tasks'],
      ['GET', `/tasks/${taskId}`],
      ['DELETE', `/tasks/${taskId}`],
      ['GET', `/tasks/${taskId}/stream`],
      ['POST', `/tasks/${taskId}/messages`],
      ['POST', `/tasks/${taskId}/tools/call_1/approve`],
      ['GET', `/tasks/${taskId}/history`],
      ['GET', `/tasks/${taskId}/artifacts`],
      ['GET', `/tasks/${taskId}/artifacts/download?path=x`],
    ];
    for (const [method, path] of calls) {
      const response = await request(`${server.url}/api/v1${path}`, { method, ...(method === 'POST' ? { body: { message: 'hi' } } : {}) });
      expectError(response, 401, 'AUTH_REQUIRED');
    }
  });

  it('answers 401 AUTH_REQUIRED when the Authorization header is empty and X-API-Key is blank', async () => {
    expectError(await request(tasksUrl(), { headers: { 'x-api-key': '  ' } }), 401, 'AUTH_REQUIRED');
  });

  it('answers 401 INVALID_API_KEY when the key is well-formed but unknown', async () => {
    const unknown = `ck_${'0'.repeat(64)}`;
    expectError(await request(tasksUrl(), { headers: { authorization: `Bearer ${unknown}` } }), 401, 'INVALID_API_KEY');
    expectError(await request(tasksUrl(), { headers: { 'x-api-key': unknown } }), 401, 'INVALID_API_KEY');
  });

  it('answers 401 INVALID_API_KEY when the key is malformed', async () => {
    for (const key of ['ck_short', `ck_${'G'.repeat(64)}`, `${apiKey}0`, apiKey.toUpperCase().replace('CK_', 'ck_')]) {
      expectError(await request(tasksUrl(), { headers: { authorization: `Bearer ${key}` } }), 401, 'INVALID_API_KEY');
    }
  });

  it('accepts the same key when it is sent as X-API-Key', async () => {
    const response = await request(`${tasksUrl()}/${taskId}`, { headers: { 'x-api-key': apiKey } });
    expect(response.status).toBe(200);
    expect(response.body.data.id).toBe(taskId);
  });

  it('answers 401 INVALID_API_KEY when the key was revoked with keys revoke', async () => {
    const created = await server.createApiKey('default', ['--name', 'to-revoke']);
    const headers = { authorization: `Bearer ${created.key}` };
    expect((await request(tasksUrl(), { headers })).status).toBe(200);
    const revoked = await server.cli(['keys', 'revoke', created.id, '--json']);
    expect(revoked.code).toBe(0);
    expect(JSON.parse(revoked.stdout)).toEqual({ id: created.id, revoked: true });
    expectError(await request(tasksUrl(), { headers }), 401, 'INVALID_API_KEY');
  });

  it('answers 401 INVALID_API_KEY when the key has expired', async () => {
    // The smallest --expires-in unit is seconds; a 1 s key is valid at once and expired 1 s later.
    const created = await server.createApiKey('default', ['--expires-in', '1s']);
    const headers = { authorization: `Bearer ${created.key}` };
    const issuedAt = Date.now();
    const first = await request(tasksUrl(), { headers });
    // The CLI process itself takes time; only assert validity if we are still inside the second.
    if (Date.now() - issuedAt < 500) expect(first.status).toBe(200);
    await waitFor('the key to expire', async () => (await request(tasksUrl(), { headers })).status === 401, 5000);
    const expired = await request(tasksUrl(), { headers });
    expectError(expired, 401, 'INVALID_API_KEY');
    expect(expired.body.error.message).toMatch(/expired/i);
  });

  it('answers 401 INVALID_AUTH_FORMAT when the bearer value is neither ck_ nor eyJ', async () => {
    for (const value of ['Bearer sigmic_abc', 'Bearer sk-proj-123', 'Basic dXNlcjpwYXNz', 'Bearer', 'Token ck_abc']) {
      expectError(await request(tasksUrl(), { headers: { authorization: value } }), 401, 'INVALID_AUTH_FORMAT');
    }
  });
});

describe('request errors', () => {
  it('answers 404 NOT_FOUND when the route does not exist', async () => {
    expectError(await request(`${server.url}/api/v1/nope`, { headers: api.auth }), 404, 'NOT_FOUND');
    expectError(await request(`${server.url}/api/v2/tasks`, { headers: api.auth }), 404, 'NOT_FOUND');
    expectError(await request(`${server.url}/definitely-not-here`), 404, 'NOT_FOUND');
  });

  it('answers 404 NOT_FOUND on every task endpoint when the task does not exist', async () => {
    const id = '00000000-0000-4000-8000-000000000000';
    for (const [method, path] of [
      ['GET', `/tasks/${id}`],
      ['GET', `/tasks/${id}/history`],
      ['GET', `/tasks/${id}/artifacts`],
      ['GET', `/tasks/${id}/artifacts/download?path=downloads/x`],
      ['GET', `/tasks/${id}/stream`],
      ['GET', '/tasks/not-a-uuid'],
    ] as const) {
      expectError(await api.call(method, path), 404, 'NOT_FOUND');
    }
  });

  it("answers 404 NOT_FOUND for another project's task exactly as for a missing one", async () => {
    const other = createApiClient(server.url, (await server.createApiKey('someone-else')).key);
    for (const [method, path, body] of [
      ['GET', `/tasks/${taskId}`, undefined],
      ['GET', `/tasks/${taskId}/history`, undefined],
      ['GET', `/tasks/${taskId}/stream`, undefined],
      ['DELETE', `/tasks/${taskId}`, undefined],
      ['POST', `/tasks/${taskId}/messages`, { message: 'hi' }],
    ] as const) {
      expectError(await other.call(method, path, body), 404, 'NOT_FOUND');
    }
    const list = await other.call('GET', '/tasks');
    expect(list.body.data).toEqual([]);
    expect(list.body.pagination.total).toBe(0);
    expect((await api.getTask(taskId)).status).toBe('completed');
  });

  it('answers 400 VALIDATION_ERROR when a create body is invalid', async () => {
    for (const body of [{}, { message: '' }, { message: 42 }, { message: 'hi', autoExecute: 'maybe' }, { message: 'hi', showInHistory: 3 }, { message: 'hi', systemPrompt: 5 }]) {
      expectError(await api.call('POST', '/tasks', body), 400, 'VALIDATION_ERROR');
    }
    expectError(await api.call('POST', '/tasks', '{"message": ', { 'content-type': 'application/json' }), 400, 'VALIDATION_ERROR');
    expectError(await api.call('POST', '/tasks', '["message"]', { 'content-type': 'application/json' }), 400, 'VALIDATION_ERROR');
    const form = new FormData();
    form.append('systemPrompt', 'no message');
    expectError(await api.call('POST', '/tasks', form), 400, 'VALIDATION_ERROR');
  });

  it('answers 400 VALIDATION_ERROR when list paging is out of range', async () => {
    for (const query of ['?limit=101', '?limit=-1', '?limit=abc', '?offset=-5', '?offset=1.5']) {
      expectError(await api.call('GET', `/tasks${query}`), 400, 'VALIDATION_ERROR');
    }
  });

  it('answers 400 INVALID_ENV when an env or secrets name or value is invalid', async () => {
    for (const extra of [
      { env: { '1BAD': 'x' } },
      { env: { 'WITH-DASH': 'x' } },
      { env: { GOOD: 1 } },
      { env: ['A'] },
      { env: 'A=1' },
      { secrets: { 'bad name': 'x' } },
      { secrets: { TOKEN: { nested: true } } },
    ]) {
      expectError(await api.call('POST', '/tasks', { message: 'hi', ...extra }), 400, 'INVALID_ENV');
    }
    const form = new FormData();
    form.append('message', 'hi');
    form.append('env', '{not json');
    expectError(await api.call('POST', '/tasks', form), 400, 'INVALID_ENV');
  });

  it('creates no task when the request is refused', async () => {
    const before = (await api.call('GET', '/tasks')).body.pagination.total;
    await api.call('POST', '/tasks', { message: 'hi', env: { '1BAD': 'x' } });
    await api.call('POST', '/tasks', { message: '' });
    expect((await api.call('GET', '/tasks')).body.pagination.total).toBe(before);
  });

  it('answers 413 PAYLOAD_TOO_LARGE when a JSON body is over 1 MB', async () => {
    const big = { message: 'x'.repeat(1024 * 1024 + 10) };
    expectError(await api.call('POST', '/tasks', big), 413, 'PAYLOAD_TOO_LARGE');
    expectError(await api.call('POST', `/tasks/${taskId}/messages`, big), 413, 'PAYLOAD_TOO_LARGE');
    expectError(await api.call('POST', `/tasks/${taskId}/tools/call_1/approve`, { outcome: 'x'.repeat(1024 * 1024 + 10) }), 413, 'PAYLOAD_TOO_LARGE');
  });

  it('answers 413 PAYLOAD_TOO_LARGE, not a broken connection, when a chunked JSON body grows over 1 MB', async () => {
    const chunk = new TextEncoder().encode('x'.repeat(64 * 1024));
    // Several sizes and attempts: a server that closes while the client still sends fails some of them.
    for (const chunks of [20, 80, 300, 20, 80, 300]) {
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('{"message":"'));
        },
        pull(controller) {
          if (sent++ < chunks) controller.enqueue(chunk);
          else {
            controller.enqueue(new TextEncoder().encode('"}'));
            controller.close();
          }
        },
      });
      const response = await fetch(tasksUrl(), { method: 'POST', headers: { ...api.auth, 'content-type': 'application/json' }, body, duplex: 'half' } as RequestInit);
      expectError({ status: response.status, body: await response.json() }, 413, 'PAYLOAD_TOO_LARGE');
    }
    // The connection stays usable.
    expect((await api.call('GET', '/tasks')).status).toBe(200);
  });

  it('answers 400 VALIDATION_ERROR when a message is over the length limit but the body is under 1 MB', async () => {
    expectError(await api.call('POST', '/tasks', { message: 'y'.repeat(100_001) }), 400, 'VALIDATION_ERROR');
  });

  it('answers 409 TASK_BUSY when a follow-up arrives while the task runs', async () => {
    const gate = createGate();
    fake.scenario('[errors-busy]', async () => {
      await gate.promise;
      return { text: 'ok' };
    });
    const id = await api.createTask({ message: 'hello [errors-busy]' });
    expectError(await api.call('POST', `/tasks/${id}/messages`, { message: 'more' }), 409, 'TASK_BUSY');
    gate.open();
    await api.waitForStatus(id, 'completed');
  });

  it('answers 405 METHOD_NOT_ALLOWED with an Allow header when the method is wrong for a route', async () => {
    const response = await api.call('PUT', `/tasks/${taskId}`, { message: 'x' });
    expectError(response, 405, 'METHOD_NOT_ALLOWED');
    expect(response.headers.get('allow')).toMatch(/GET/);
    expect(response.headers.get('allow')).toMatch(/DELETE/);
    expectError(await api.call('PATCH', '/tasks', { message: 'x' }), 405, 'METHOD_NOT_ALLOWED');
  });

  it('answers 415 UNSUPPORTED_MEDIA_TYPE when the create body is neither JSON nor a form', async () => {
    expectError(await api.call('POST', '/tasks', 'hi', { 'content-type': 'text/plain' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
  });
});
