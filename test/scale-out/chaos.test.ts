import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestDatabase } from '../../server/src/testing/create-test-database.ts';
import type {} from '../../server/src/testing/postgres-global-setup.ts';
import { startCuttableProxy } from '../../server/src/testing/start-cuttable-proxy.ts';
import type { Message, Task } from '../../shared/src/index.ts';
import { type ApiClient, createApiClient, request } from '../support/api-client.ts';
import { type SpawnedConcierge, spawnConcierge } from '../support/spawn-concierge.ts';

// Three real servers on one PostgreSQL (behind a proxy the test can cut) and one shared data dir, as in
// docs/operations.md "Several servers", with the faults scale-out has to weather: the database gone for
// five seconds under load, an owner frozen past its lease, approvals racing on two servers, a follow-up
// with secrets through another server, rate limits across servers, a server drained under load. After
// all of it, every task's log is contiguous and no turn wrote after its end.

const ORIGIN = 'http://chaos.widget.test';
const TERMINAL = ['completed', 'failed', 'cancelled'];

let servers: SpawnedConcierge[];
let clients: ApiClient[];
let proxy: Awaited<ReturnType<typeof startCuttableProxy>>;
let database: { url: string; drop(): Promise<void> };
let sql: pg.Client;
let dataDir: string;
let app: { appId: string; appSecret: string };

beforeAll(async () => {
  database = await createTestDatabase(inject('databaseUrl'));
  sql = new pg.Client({ connectionString: database.url });
  await sql.connect();
  const url = new URL(database.url);
  proxy = await startCuttableProxy({ host: url.hostname, port: Number(url.port) });
  url.port = String(proxy.port);
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'concierge-shared-'));
  const env = { DATABASE_URL: url.toString(), CONCIERGE_MODEL: 'scripted', LOG_LEVEL: 'info', CONCIERGE_JWT_SECRET: 'chaos-'.repeat(8) };
  servers = [];
  for (let index = 0; index < 3; index++) servers.push(await spawnConcierge({ env, dataDir }));
  const key = (await servers[0]!.createApiKey()).key;
  clients = servers.map((server) => createApiClient(server.url, key));
  const projectFile = path.join(dataDir, 'projects.json');
  await fs.writeFile(projectFile, JSON.stringify({ projects: { default: { rateLimits: { tasksPerMinute: 3, maxActiveTasksPerEndUser: 10 } } } }));
  const applied = await servers[0]!.cli(['projects', 'apply', projectFile]);
  if (applied.code !== 0) throw new Error(`projects apply failed: ${applied.stderr}`);
  const created = await servers[0]!.cli(['apps', 'create', '--project', 'default', '--name', 'chaos', '--origin', ORIGIN, '--json']);
  if (created.code !== 0) throw new Error(`apps create failed: ${created.stderr}`);
  app = JSON.parse(created.stdout) as { appId: string; appSecret: string };
}, 180_000);

afterAll(async () => {
  for (const server of servers ?? []) {
    // A server that died tells why.
    if (server.process.exitCode !== null && server.process.exitCode !== 0) console.log(`server ${server.url} exited ${server.process.exitCode}:\n${server.lines.slice(-40).join('\n')}`);
    await server.stop();
  }
  await sql?.end();
  await proxy?.close();
  await database?.drop();
  await fs.rm(dataDir, { recursive: true, force: true });
});

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until the task is terminal, riding out 503s while the database is away. */
async function settle(client: ApiClient, id: string, timeoutMs = 120_000): Promise<Task> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await client.call('GET', `/tasks/${id}`).catch(() => undefined);
    const task = response?.status === 200 ? (response.body.data as Task) : undefined;
    if (task && TERMINAL.includes(task.status)) return task;
    if (Date.now() > deadline) throw new Error(`task ${id} did not finish (last: ${task?.status ?? response?.status})`);
    await pause(100);
  }
}

async function history(client: ApiClient, id: string): Promise<Message[]> {
  return (await client.call('GET', `/tasks/${id}/history`)).body.data.messages as Message[];
}

/** Every process still running (none exited or crashed). */
function expectAllAlive() {
  for (const server of servers) expect([server.process.exitCode, server.process.signalCode]).toEqual([null, null]);
}

describe('three servers on one PostgreSQL', () => {
  it('applies widget rate limits across servers as one server would', async () => {
    const exchange = await request(`${servers[1]!.url}/api/v1/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ appId: app.appId, appSecret: app.appSecret, endUserId: 'chaos-visitor' }),
    });
    expect(exchange.status).toBe(200);
    const visitor = (index: number) => ({ ...createApiClient(servers[index]!.url, exchange.body.data.token as string) });
    const answers = [];
    for (let index = 0; index < 4; index++) {
      answers.push(await visitor(index % 3).call('POST', '/tasks', { message: 'hello there' }, { origin: ORIGIN }));
    }
    expect(answers.slice(0, 3).map((answer) => answer.status)).toEqual([200, 200, 200]);
    expect([answers[3]!.status, answers[3]!.body.error?.code]).toEqual([429, 'RATE_LIMITED']);
    expect(Number(answers[3]!.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('runs a follow-up with secrets sent to another server, on the server that holds them', async () => {
    const secret = 'tok-c4a05f0e2b7d9138';
    const id = await clients[0]!.createTask({ message: 'hello there', secrets: { CHAOS_TOKEN: secret } });
    expect((await settle(clients[0]!, id)).status).toBe('completed');
    expect((await clients[1]!.call('POST', `/tasks/${id}/messages`, { message: 'echo $CHAOS_TOKEN' })).status).toBe(200);
    expect((await settle(clients[2]!, id)).status).toBe('completed');
    const call = (await history(clients[2]!, id)).at(-1)?.toolCalls?.[0];
    expect(call).toMatchObject({ toolName: 'run_shell_command', status: 'success' });
    expect(call?.output).toContain('[REDACTED]');
    expect(JSON.stringify(await history(clients[1]!, id))).not.toContain(secret);
  });

  it('takes exactly one of an Allow and a Deny racing on two servers, and a Deny never runs the tool', async () => {
    for (let round = 0; round < 6; round++) {
      const id = await clients[round % 3]!.createTask({ message: 'write a report', autoExecute: false });
      const waiting = await clients[0]!.waitForStatus(id, 'awaiting_approval', 30_000);
      const callId = waiting.pendingApprovals![0]!.callId;
      const [allow, deny] = await Promise.all([
        clients[1]!.call('POST', `/tasks/${id}/tools/${callId}/approve`, { outcome: 'proceed_once' }),
        clients[2]!.call('POST', `/tasks/${id}/tools/${callId}/approve`, { outcome: 'cancel' }),
      ]);
      expect([allow.status, deny.status].filter((status) => status === 200)).toHaveLength(1);
      await settle(clients[0]!, id);
      const status = (await history(clients[0]!, id)).at(-1)?.toolCalls?.[0]?.status;
      expect(status).toBe(allow.status === 200 ? 'success' : 'rejected');
    }
  });

  it('accepts an approval sent to one server the instant another server streams the tool_call', async () => {
    for (let round = 0; round < 5; round++) {
      const id = await clients[0]!.createTask({ message: 'write a report', autoExecute: false });
      let approval: Promise<Awaited<ReturnType<ApiClient['call']>>> | undefined;
      await clients[1]!.stream(id, {
        timeoutMs: 30_000,
        until: (event) => {
          if (event.event !== 'tool_call' || approval) return false;
          const { callId } = event.data as { callId: string };
          approval = clients[2]!.call('POST', `/tasks/${id}/tools/${callId}/approve`, { outcome: 'proceed_once' });
          return true;
        },
      });
      expect((await approval!).status).toBe(200);
      expect((await settle(clients[0]!, id)).status).toBe('completed');
    }
  });

  it('stays up through a 5 s PostgreSQL outage under load, then finishes or fails every task with a reason', async () => {
    const ids: string[] = [];
    for (let index = 0; index < 9; index++) ids.push(await clients[index % 3]!.createTask({ message: 'slow reply please' }));
    await clients[0]!.waitForStatus(ids[0]!, 'running', 30_000);
    await proxy.cut();
    await pause(5_000);
    // Meanwhile every server answers, with 503 and a Retry-After instead of hanging or dying.
    for (const client of clients) {
      const answer = await client.call('POST', '/tasks', { message: 'hello there' });
      expect([answer.status, answer.body.error?.code]).toEqual([503, 'SERVICE_UNAVAILABLE']);
    }
    expectAllAlive();
    await proxy.restore();
    for (const id of ids) {
      const task = await settle(clients[1]!, id);
      if (task.status !== 'completed') expect(task.error).toBeTruthy();
    }
    expectAllAlive();
    // After the outage a stream on one server delivers live the turn another server runs.
    const id = await clients[2]!.createTask({ message: 'slow reply please' });
    const events = await clients[0]!.stream(id, { timeoutMs: 60_000 });
    expect(events.filter((event) => event.event === 'content').length).toBeGreaterThan(1);
    expect(events.at(-1)?.event).toBe('done');
  }, 240_000);

  it('lets a frozen owner write nothing after another server took its task', async () => {
    const id = await clients[0]!.createTask({ message: 'slow reply please' });
    await clients[0]!.waitForStatus(id, 'running', 30_000);
    servers[0]!.process.kill('SIGSTOP');
    try {
      // Past the 30 s lease the task moves to a live server, which finishes it.
      expect((await settle(clients[1]!, id, 120_000)).status).toBe('completed');
    } finally {
      servers[0]!.process.kill('SIGCONT');
    }
    const { rows } = await sql.query('SELECT max(seq) AS seq FROM task_events WHERE task_id = $1', [id]);
    const endSeq = Number(rows[0].seq);
    // The woken owner finds its lease gone at its first write and stops.
    await pause(3_000);
    const after = await sql.query('SELECT count(*) AS n FROM task_events WHERE task_id = $1 AND seq > $2', [id, endSeq]);
    expect(Number(after.rows[0].n)).toBe(0);
    const reply = (await history(clients[2]!, id)).at(-1)!.content;
    expect(reply.match(/Sentence 1 of 40/g)).toHaveLength(1);
    expect(reply).toContain('Sentence 40 of 40');
    expectAllAlive();
  }, 180_000);

  it('drains a server under load: it stops taking work, and every task it ran still finishes', async () => {
    const ids: string[] = [];
    for (let index = 0; index < 6; index++) ids.push(await clients[2]!.createTask({ message: 'slow reply please' }));
    await clients[2]!.waitForStatus(ids[0]!, 'running', 30_000);
    await servers[2]!.kill('SIGTERM');
    expect(servers[2]!.process.exitCode).toBe(0);
    for (const id of ids) expect((await settle(clients[0]!, id, 120_000)).status).toBe('completed');
  }, 180_000);

  it('kept every task’s log contiguous, and no turn wrote after its end', async () => {
    const { rows } = await sql.query<{ task_id: string; seq: number; event: string }>('SELECT task_id, seq, event FROM task_events ORDER BY task_id, seq');
    const byTask = new Map<string, { seq: number; event: string }[]>();
    for (const row of rows) byTask.set(row.task_id, [...(byTask.get(row.task_id) ?? []), { seq: Number(row.seq), event: row.event }]);
    expect(byTask.size).toBeGreaterThan(20);
    for (const [taskId, events] of byTask) {
      expect(
        events.map((event) => event.seq),
        taskId,
      ).toEqual(events.map((_, index) => index + 1));
      // After a turn's end (done or error) only a new user message may follow.
      for (let index = 0; index < events.length - 1; index++) {
        if (events[index]!.event === 'done' || events[index]!.event === 'error') expect(events[index + 1]!.event, `${taskId} #${events[index + 1]!.seq}`).toBe('user_message');
      }
    }
  });
});
