import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSse } from '../../testing/read-sse.ts';
import { startTestServer, type TestServer } from '../../testing/start-test-server.ts';
import { type ApiAnswer, callApi, configureTestProject, createTestWidgetApp, exchangeTestToken } from '../../testing/widget-test-kit.ts';

// Two projects (p1, p2), two apps in p1 (a1, a2) and one in p2 (b), two end users (alice, bob), two API keys.
const ORIGINS = { a1: 'https://a1.example.com', a2: 'https://a2.example.com', b: 'https://b.example.com', c: 'https://c.example.com' };
type Caller = 'a1:alice' | 'a1:bob' | 'a2:alice' | 'b:alice' | 'key:p1' | 'key:p2';
const CALLERS: Caller[] = ['a1:alice', 'a1:bob', 'a2:alice', 'b:alice', 'key:p1', 'key:p2'];

let server: TestServer;
const headers = {} as Record<Caller | 'c:alice' | 'c:bob', Record<string, string>>;
let apps: Record<keyof typeof ORIGINS, { appId: string; appSecret: string }>;

beforeAll(async () => {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'concierge-identity-'));
  apps = {
    a1: await createTestWidgetApp(dataDir, { project: 'p1', origins: [ORIGINS.a1] }),
    a2: await createTestWidgetApp(dataDir, { project: 'p1', origins: [ORIGINS.a2] }),
    b: await createTestWidgetApp(dataDir, { project: 'p2', origins: [ORIGINS.b] }),
    c: await createTestWidgetApp(dataDir, { project: 'p3', origins: [ORIGINS.c] }),
  };
  await configureTestProject(dataDir, 'p3', { rateLimits: { tasksPerMinute: 2 } });
  server = await startTestServer({ CONCIERGE_SANDBOX: 'bwrap' }, { dataDir });
  const widget = async (app: keyof typeof ORIGINS, endUserId: string) => {
    const { token } = await exchangeTestToken(server.url, { ...apps[app], endUserId });
    return { Authorization: `Bearer ${token}`, Origin: ORIGINS[app] };
  };
  headers['a1:alice'] = await widget('a1', 'alice');
  headers['a1:bob'] = await widget('a1', 'bob');
  headers['a2:alice'] = await widget('a2', 'alice');
  headers['b:alice'] = await widget('b', 'alice');
  headers['c:alice'] = await widget('c', 'alice');
  headers['c:bob'] = await widget('c', 'bob');
  headers['key:p1'] = { Authorization: `Bearer ${await server.createApiKey('p1')}` };
  headers['key:p2'] = { Authorization: `Bearer ${await server.createApiKey('p2')}` };
});
afterAll(async () => {
  await server?.close();
});

const call = (caller: keyof typeof headers, method: string, requestPath: string, body?: unknown): Promise<ApiAnswer> =>
  callApi(server.url, method, `/api/v1${requestPath}`, { headers: headers[caller], ...(body !== undefined ? { body } : {}) });

async function waitForStatus(caller: keyof typeof headers, taskId: string, status: string) {
  for (let attempt = 0; attempt < 400; attempt++) {
    const answer = await call(caller, 'GET', `/tasks/${taskId}`);
    if (answer.body.data?.status === status) return answer.body.data;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`task ${taskId} never reached ${status}`);
}

async function createTask(caller: keyof typeof headers, body: Record<string, unknown>): Promise<string> {
  const answer = await call(caller, 'POST', '/tasks', body);
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body.data.id;
}

describe('createWidgetIdentity: authorisation matrix', () => {
  type Owned = { done: string; toApprove: string; callId: string; toCancel: string };
  const owned = {} as Record<'a1:alice' | 'b:alice' | 'key:p1', Owned>;
  const visibleTo: Record<keyof typeof owned, Caller[]> = {
    'a1:alice': ['a1:alice', 'key:p1'],
    'b:alice': ['b:alice', 'key:p2'],
    'key:p1': ['key:p1'],
  };

  beforeAll(async () => {
    for (const owner of Object.keys(visibleTo) as (keyof typeof owned)[]) {
      const done = await createTask(owner, { message: 'hello' });
      const toApprove = await createTask(owner, { message: 'echo $HOME', autoExecute: false });
      const toCancel = await createTask(owner, { message: 'echo $HOME', autoExecute: false });
      await waitForStatus(owner, done, 'completed');
      const waiting = await waitForStatus(owner, toApprove, 'awaiting_approval');
      await waitForStatus(owner, toCancel, 'awaiting_approval');
      await fs.writeFile(path.join(server.dataDir, 'workspaces', done, 'downloads', 'report.txt'), `report of ${owner}`);
      owned[owner] = { done, toApprove, callId: waiting.pendingApprovals[0].callId, toCancel };
    }
  });

  it('lists only the caller’s own tasks (widget: its app and end user; API key: its project)', async () => {
    const expected: Record<Caller, string[]> = {
      'a1:alice': Object.values(owned['a1:alice']).filter((value) => !value.startsWith('call')),
      'a1:bob': [],
      'a2:alice': [],
      'b:alice': Object.values(owned['b:alice']).filter((value) => !value.startsWith('call')),
      'key:p1': [...Object.values(owned['a1:alice']), ...Object.values(owned['key:p1'])].filter((value) => !value.startsWith('call')),
      'key:p2': Object.values(owned['b:alice']).filter((value) => !value.startsWith('call')),
    };
    for (const caller of CALLERS) {
      const answer = await call(caller, 'GET', '/tasks?limit=100');
      expect(answer.status).toBe(200);
      const ids = (answer.body.data as { id: string }[]).map((task) => task.id);
      expect({ caller, ids: ids.sort() }).toEqual({ caller, ids: [...expected[caller]].sort() });
      expect(answer.body.pagination.total).toBe(expected[caller].length);
    }
  });

  it('answers 404 NOT_FOUND to everyone else on every task endpoint, exactly as for a task that does not exist', async () => {
    const ghost = '00000000-0000-4000-8000-000000000000';
    for (const [owner, tasks] of Object.entries(owned) as [keyof typeof owned, Owned][]) {
      for (const caller of CALLERS.filter((candidate) => !visibleTo[owner].includes(candidate))) {
        const attempts: [string, () => Promise<ApiAnswer>][] = [
          ['get', () => call(caller, 'GET', `/tasks/${tasks.done}`)],
          ['stream', () => call(caller, 'GET', `/tasks/${tasks.done}/stream`)],
          ['history', () => call(caller, 'GET', `/tasks/${tasks.done}/history`)],
          ['follow-up', () => call(caller, 'POST', `/tasks/${tasks.done}/messages`, { message: 'more' })],
          ['approve', () => call(caller, 'POST', `/tasks/${tasks.toApprove}/tools/${tasks.callId}/approve`, { outcome: 'proceed_once' })],
          ['cancel', () => call(caller, 'DELETE', `/tasks/${tasks.toCancel}`)],
          ['artifacts', () => call(caller, 'GET', `/tasks/${tasks.done}/artifacts`)],
          ['download', () => call(caller, 'GET', `/tasks/${tasks.done}/artifacts/download?path=downloads/report.txt`)],
        ];
        for (const [endpoint, attempt] of attempts) {
          const answer = await attempt();
          expect({ owner, caller, endpoint, status: answer.status, code: answer.body?.error?.code }).toEqual({ owner, caller, endpoint, status: 404, code: 'NOT_FOUND' });
          expect(JSON.stringify(answer.body)).not.toContain(`report of ${owner}`);
        }
        const missing = await call(caller, 'GET', `/tasks/${ghost}`);
        expect(missing.body.error.code).toBe('NOT_FOUND');
      }
    }
    // Nothing the others tried changed anything.
    for (const [owner, tasks] of Object.entries(owned) as [keyof typeof owned, Owned][]) {
      expect((await call(owner, 'GET', `/tasks/${tasks.done}`)).body.data.status).toBe('completed');
      expect((await call(owner, 'GET', `/tasks/${tasks.toApprove}`)).body.data.status).toBe('awaiting_approval');
      expect((await call(owner, 'GET', `/tasks/${tasks.toCancel}`)).body.data.status).toBe('awaiting_approval');
    }
  });

  it('serves every endpoint to the owner and to the project’s API key', async () => {
    for (const [owner, tasks] of Object.entries(owned) as [keyof typeof owned, Owned][]) {
      for (const caller of visibleTo[owner]) {
        expect((await call(caller, 'GET', `/tasks/${tasks.done}`)).status).toBe(200);
        expect((await call(caller, 'GET', `/tasks/${tasks.done}/history`)).body.data.taskId).toBe(tasks.done);
        expect((await call(caller, 'GET', `/tasks/${tasks.done}/artifacts`)).body.data.files.map((file: { path: string }) => file.path)).toContain('downloads/report.txt');
        expect((await call(caller, 'GET', `/tasks/${tasks.done}/artifacts/download?path=downloads/report.txt`)).body).toBe(`report of ${owner}`);
        const events = await readSse(`${server.url}/api/v1/tasks/${tasks.done}/stream`, headers[caller]);
        expect(events.map((event) => event.event)).toContain('history_done');
      }
      const [first, second = first] = visibleTo[owner] as [Caller, Caller?];
      expect((await call(first, 'POST', `/tasks/${tasks.toApprove}/tools/${tasks.callId}/approve`, { outcome: 'proceed_once' })).status).toBe(200);
      expect((await call(second, 'DELETE', `/tasks/${tasks.toCancel}`)).status).toBe(200);
      expect((await call(first, 'POST', `/tasks/${tasks.done}/messages`, { message: 'thanks' })).status).toBe(200);
      await waitForStatus(first, tasks.toApprove, 'completed');
      await waitForStatus(first, tasks.done, 'completed');
    }
  });
});

describe('createWidgetIdentity: end-user env and secrets', () => {
  const ENV_VALUE = 'tenant-eu-west-7f3a';
  const SECRET_VALUE = 'crm-s3cret-b9d1c4e2a7';
  const seen: string[] = [];
  const record = (answer: ApiAnswer) => {
    seen.push(JSON.stringify(answer.body));
    return answer;
  };

  async function historyText(caller: keyof typeof headers, taskId: string): Promise<string> {
    const answer = record(await call(caller, 'GET', `/tasks/${taskId}/history`));
    return JSON.stringify(answer.body);
  }

  it('env reaches the sandbox, secrets never do (they serve MCP templates only); the site owner’s env wins over the task’s; nothing leaves the server', async () => {
    const exchange = record(
      await callApi(server.url, 'POST', '/api/v1/auth/token', {
        body: { ...apps.a1, endUserId: 'carol', env: { TENANT_REGION: ENV_VALUE }, secrets: { CRM_TOKEN: SECRET_VALUE } },
      }),
    );
    const token = exchange.body.data.token as string;
    for (const part of token.split('.').slice(0, 2)) expect(Buffer.from(part, 'base64url').toString()).not.toMatch(/tenant-eu|crm-s3cret|TENANT_REGION|CRM_TOKEN/);
    headers['a1:carol' as Caller] = { Authorization: `Bearer ${token}`, Origin: ORIGINS.a1 };
    const carol = 'a1:carol' as Caller;

    const envTask = await createTask(carol, { message: 'echo $TENANT_REGION' });
    await waitForStatus(carol, envTask, 'completed');
    expect(await historyText(carol, envTask)).toContain(ENV_VALUE);

    const secretTask = await createTask(carol, { message: 'echo $CRM_TOKEN' });
    await waitForStatus(carol, secretTask, 'completed');
    const secretHistory = await historyText(carol, secretTask);
    // Not redacted but absent: the visitor drives the shell, so the token's secrets are never in it.
    expect(secretHistory).not.toContain('[REDACTED]');
    expect(secretHistory).not.toContain(SECRET_VALUE);
    const streamed = await readSse(`${server.url}/api/v1/tasks/${secretTask}/stream`, headers[carol]);
    seen.push(JSON.stringify(streamed));
    const resumed = await readSse(`${server.url}/api/v1/tasks/${secretTask}/stream?after=0`, headers[carol]);
    seen.push(JSON.stringify(resumed));

    const ownEnvTask = await createTask(carol, { message: 'echo $TENANT_REGION', env: { TENANT_REGION: 'task-own-value' } });
    await waitForStatus(carol, ownEnvTask, 'completed');
    // The visitor cannot restate what the site owner said about them (red team: a tier raised to Gold).
    const ownHistory = await historyText(carol, ownEnvTask);
    expect(ownHistory).toContain(ENV_VALUE);
    expect(ownHistory).not.toContain('task-own-value');

    // Other end users of the same app do not get carol's values.
    const bobTask = await createTask('a1:bob', { message: 'echo $TENANT_REGION' });
    await waitForStatus('a1:bob', bobTask, 'completed');
    expect(await historyText('a1:bob', bobTask)).not.toContain(ENV_VALUE);

    // A task shows its own env only; the end user's values appear nowhere but in what a tool printed.
    const envOf = async (caller: keyof typeof headers, taskId: string) => record(await call(caller, 'GET', `/tasks/${taskId}`)).body.data.env;
    for (const caller of [carol, 'key:p1'] as const) {
      expect(await envOf(caller, envTask)).toBeNull();
      expect(await envOf(caller, secretTask)).toBeNull();
      expect(await envOf(caller, ownEnvTask)).toEqual({ TENANT_REGION: 'task-own-value' });
    }
    expect(JSON.stringify((await call(carol, 'GET', `/tasks/${secretTask}`)).body)).not.toContain(ENV_VALUE);
    const listed = record(await call(carol, 'GET', '/tasks'));
    expect(JSON.stringify(listed.body)).not.toContain(ENV_VALUE);
    record(await call('key:p1', 'GET', '/tasks?limit=100'));

    for (const text of seen) expect(text).not.toContain(SECRET_VALUE);
    expect(JSON.stringify(exchange.body)).not.toContain(ENV_VALUE);
    const logs = server.logLines.join('\n');
    expect(logs).not.toContain(SECRET_VALUE);
    expect(logs).not.toContain(ENV_VALUE);
    expect(logs).toContain('widget token issued');
    // At rest: the database, its WAL and everything else in the data dir.
    for (const file of await fs.readdir(server.dataDir, { recursive: true })) {
      const stat = await fs.stat(path.join(server.dataDir, file));
      if (!stat.isFile()) continue;
      const bytes = await fs.readFile(path.join(server.dataDir, file));
      expect({ file, leaked: bytes.includes(SECRET_VALUE) }).toEqual({ file, leaked: false });
    }
  });

  it('uses the end user’s latest exchange: new values replace the old ones', async () => {
    const { token } = await exchangeTestToken(server.url, { ...apps.a1, endUserId: 'dave', env: { PLAN: 'plan-gold-1' } });
    const dave = 'a1:dave' as Caller;
    headers[dave] = { Authorization: `Bearer ${token}`, Origin: ORIGINS.a1 };
    const first = await createTask(dave, { message: 'echo $PLAN' });
    await waitForStatus(dave, first, 'completed');
    expect(await historyText(dave, first)).toContain('plan-gold-1');
    await exchangeTestToken(server.url, { ...apps.a1, endUserId: 'dave', env: { PLAN: 'plan-silver-2' } });
    const second = await createTask(dave, { message: 'echo $PLAN' });
    await waitForStatus(dave, second, 'completed');
    const text = await historyText(dave, second);
    expect(text).toContain('plan-silver-2');
    expect(text).not.toContain('plan-gold-1');
  });
});

describe('createWidgetIdentity: task creation rate limit', () => {
  it('answers 429 RATE_LIMITED with Retry-After past the project’s tasksPerMinute, per end user, and spares API keys', async () => {
    expect((await call('c:alice', 'POST', '/tasks', { message: 'hello' })).status).toBe(200);
    expect((await call('c:alice', 'POST', '/tasks', { message: 'hello' })).status).toBe(200);
    const limited = await call('c:alice', 'POST', '/tasks', { message: 'hello' });
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('RATE_LIMITED');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(limited.headers.get('access-control-allow-origin')).toBe(ORIGINS.c);
    expect(limited.headers.get('access-control-expose-headers')).toMatch(/Retry-After/);
    expect((await call('c:bob', 'POST', '/tasks', { message: 'hello' })).status).toBe(200);
    const key = { Authorization: `Bearer ${await server.createApiKey('p3')}` };
    for (let index = 0; index < 3; index++) {
      expect((await callApi(server.url, 'POST', '/api/v1/tasks', { headers: key, body: { message: 'hello' } })).status).toBe(200);
    }
  });
});
