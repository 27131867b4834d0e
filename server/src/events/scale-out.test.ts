import type { Message } from '@concierge/shared';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestDatabase } from '../testing/create-test-database.ts';
import { REDACTED } from '../runtime/secrets/create-redactor.ts';
import { readSse } from '../testing/read-sse.ts';
import { startTestServer, type TestServer } from '../testing/start-test-server.ts';

// Two servers on one PostgreSQL database and one shared data directory (workspaces on a shared
// volume): the log is shared, the bus is LISTEN/NOTIFY.
describe('scale-out on PostgreSQL', () => {
  let a: TestServer;
  let b: TestServer;
  let drop: () => Promise<void>;
  let databaseUrl: string;

  beforeAll(async () => {
    const database = await createTestDatabase(inject('databaseUrl'));
    drop = database.drop;
    databaseUrl = database.url;
    a = await startTestServer({ DATABASE_URL: database.url, CONCIERGE_MODEL: 'scripted' });
    b = await startTestServer({ DATABASE_URL: database.url, CONCIERGE_MODEL: 'scripted' }, { apiKey: a.apiKey, dataDir: a.dataDir });
  });
  afterAll(async () => {
    await b.stop();
    await a.close();
    await drop();
  });

  const headers = () => ({ Authorization: `Bearer ${a.apiKey}`, 'Content-Type': 'application/json' });
  const call = async (server: TestServer, method: string, path: string, body?: unknown) => {
    const response = await fetch(`${server.url}/api/v1${path}`, { method, headers: headers(), ...(body ? { body: JSON.stringify(body) } : {}) });
    return (await response.json()) as { success: boolean; data: any };
  };
  const waitForStatus = async (server: TestServer, id: string, status: string) => {
    // Up to 20 s: a scripted turn takes a second or two, longer on a loaded machine.
    for (let i = 0; i < 800; i++) {
      const task = await call(server, 'GET', `/tasks/${id}`);
      if (task.data.status === status) return task.data;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`task ${id} never reached ${status}`);
  };

  it('streams on one server the events of a task another server runs', async () => {
    const { data } = await call(a, 'POST', '/tasks', { message: 'hello there' });
    const fromB = await readSse(`${b.url}/api/v1/tasks/${data.id}/stream`, headers());
    const fromA = await readSse(`${a.url}/api/v1/tasks/${data.id}/stream`, headers(), {});
    expect(fromB.at(-1)?.event).toBe('done');
    expect(fromB.filter((event) => event.event === 'content').length).toBeGreaterThan(1);
    // The late reader on A replays the same conversation as history.
    const history = fromA.filter((event) => event.event === 'history_message').map((event) => (event.data as { content: string }).content);
    expect(history[1]).toBe((fromB.at(-1)!.data as { finalResponse: string }).finalResponse);
  });

  it('cancels from one server a task running on another', async () => {
    const { data } = await call(a, 'POST', '/tasks', { message: 'slow' });
    const stream = readSse(`${b.url}/api/v1/tasks/${data.id}/stream`, headers());
    await waitForStatus(b, data.id, 'running');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await call(b, 'DELETE', `/tasks/${data.id}`)).success).toBe(true);
    const events = await stream;
    expect(events.at(-1)).toMatchObject({ event: 'status', data: { status: 'cancelled' } });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const task = await call(a, 'GET', `/tasks/${data.id}`);
    expect(task.data.status).toBe('cancelled');
    const history = await readSse(`${a.url}/api/v1/tasks/${data.id}/stream`, headers(), {});
    expect(history.some((event) => event.event === 'done')).toBe(false);
  });

  it('answers on one server an approval asked on another', async () => {
    const { data } = await call(a, 'POST', '/tasks', { message: 'write a report', autoExecute: false });
    const waiting = await waitForStatus(a, data.id, 'awaiting_approval');
    const stream = readSse(`${a.url}/api/v1/tasks/${data.id}/stream`, headers());
    const approved = await call(b, 'POST', `/tasks/${data.id}/tools/${waiting.pendingApprovals[0].callId}/approve`, { outcome: 'proceed_always' });
    expect(approved.data).toEqual({ approved: true });
    const events = await stream;
    expect(events.at(-1)?.event).toBe('done');
    expect(events.find((event) => event.event === 'tool_result')?.data).toMatchObject({ status: 'success' });
  });

  it('takes exactly one of two approvals racing on two servers, and runs the tool only if that one allowed it', async () => {
    for (let round = 0; round < 8; round++) {
      const { data } = await call(a, 'POST', '/tasks', { message: 'write a report', autoExecute: false });
      const waiting = await waitForStatus(a, data.id, 'awaiting_approval');
      const callId = waiting.pendingApprovals[0].callId as string;
      const [allow, deny] = await Promise.all([
        call(a, 'POST', `/tasks/${data.id}/tools/${callId}/approve`, { outcome: 'proceed_once' }),
        call(b, 'POST', `/tasks/${data.id}/tools/${callId}/approve`, { outcome: 'cancel' }),
      ]);
      expect([allow.success, deny.success].filter(Boolean)).toHaveLength(1);
      const loser = allow.success ? deny : allow;
      expect((loser as unknown as { error: { code: string } }).error.code).toBe('NOT_FOUND');
      await waitForStatus(a, data.id, 'completed');
      const events = await readSse(`${a.url}/api/v1/tasks/${data.id}/stream?after=0`, headers());
      const results = events.filter((event) => event.event === 'tool_result').map((event) => (event.data as { status: string }).status);
      expect(results).toEqual([allow.success ? 'success' : 'rejected']);
    }
  });

  it('takes exactly one of two follow-ups racing on two servers', async () => {
    for (let round = 0; round < 5; round++) {
      const { data } = await call(a, 'POST', '/tasks', { message: 'hello there' });
      await waitForStatus(a, data.id, 'completed');
      const answers = await Promise.all([
        call(a, 'POST', `/tasks/${data.id}/messages`, { message: 'first follow-up' }),
        call(b, 'POST', `/tasks/${data.id}/messages`, { message: 'second follow-up' }),
      ]);
      expect(answers.filter((answer) => answer.success)).toHaveLength(1);
      expect((answers.find((answer) => !answer.success) as unknown as { error: { code: string } }).error.code).toBe('TASK_BUSY');
      await waitForStatus(a, data.id, 'completed');
      const history = await call(b, 'GET', `/tasks/${data.id}/history`);
      const users = (history.data.messages as { role: string; content: string }[]).filter((message) => message.role === 'user');
      expect(users).toHaveLength(2);
      expect(history.data.messages).toHaveLength(4);
    }
  });

  it('stops a turn the moment its server no longer holds the task, and another finishes it once', async () => {
    const { data } = await call(a, 'POST', '/tasks', { message: 'slow reply please' });
    const id = data.id as string;
    const sql = new pg.Client({ connectionString: databaseUrl });
    await sql.connect();
    const lastSeq = async () => Number((await sql.query('SELECT coalesce(max(seq), 0) AS seq FROM task_events WHERE task_id = $1', [id])).rows[0].seq);
    try {
      for (let i = 0; i < 400 && !(await call(a, 'GET', `/tasks/${id}`)).data.output?.content?.includes('Sentence 3 of 40'); i++) {
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      // As if this server had stalled past its lease and another had taken the task.
      await sql.query("UPDATE tasks SET runner_id = 'another-server', lease_until = $2 WHERE id = $1", [id, new Date(Date.now() + 60_000).toISOString()]);
      const atTakeover = await lastSeq();
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      // At most the one write already under way when the lease moved; then nothing.
      expect(await lastSeq()).toBeLessThanOrEqual(atTakeover + 1);
      expect(a.logLines.some((line) => line.includes('this server no longer holds the task'))).toBe(true);
      // The other holder goes away too: a sweep resumes the task from its last saved step.
      await sql.query('UPDATE tasks SET lease_until = $2 WHERE id = $1', [id, new Date(Date.now() - 1_000).toISOString()]);
      const done = await waitForStatus(b, id, 'completed');
      expect(done.status).toBe('completed');
    } finally {
      await sql.end();
    }
    const history = await call(b, 'GET', `/tasks/${id}/history`);
    const reply = history.data.messages.at(-1).content as string;
    expect(reply.match(/Sentence 1 of 40/g)).toHaveLength(1);
    expect(reply).toContain('Sentence 40 of 40');
    const events = await readSse(`${b.url}/api/v1/tasks/${id}/stream?after=0`, headers());
    expect(events.filter((event) => event.event === 'done')).toHaveLength(1);
  }, 60_000);

  it('runs a follow-up or approval sent to another server on the server that holds the task’s secrets', async () => {
    const secret = 'tok-9f8e7d6c5b4a3f2e';
    const { data } = await call(a, 'POST', '/tasks', { message: 'hello there', secrets: { PAYMENT_TOKEN: secret } });
    await waitForStatus(a, data.id, 'completed');
    // The follow-up lands on B, which never saw the secrets: A runs the turn, with them in the command's env.
    expect((await call(b, 'POST', `/tasks/${data.id}/messages`, { message: 'echo $PAYMENT_TOKEN' })).success).toBe(true);
    await waitForStatus(b, data.id, 'completed');
    expect(b.logLines.some((line) => line.includes('turn handed to the server that holds the task’s secrets') && line.includes(data.id))).toBe(true);
    const history = (await call(b, 'GET', `/tasks/${data.id}/history`)).data.messages as Message[];
    const echoed = history.at(-1)?.toolCalls?.[0];
    expect(echoed).toMatchObject({ toolName: 'run_shell_command', status: 'success' });
    expect(echoed?.output).toContain(REDACTED);
    expect(JSON.stringify(history)).not.toContain(secret);

    // An approval through B of a task whose secrets A holds: A runs the approved tool.
    const asked = await call(a, 'POST', '/tasks', { message: 'write a report', autoExecute: false, secrets: { PAYMENT_TOKEN: secret } });
    const waiting = await waitForStatus(a, asked.data.id, 'awaiting_approval');
    const approved = await call(b, 'POST', `/tasks/${asked.data.id}/tools/${waiting.pendingApprovals[0].callId}/approve`, { outcome: 'proceed_once' });
    expect(approved.data).toEqual({ approved: true });
    expect((await waitForStatus(b, asked.data.id, 'completed')).status).toBe('completed');
  });

  it('fails a task with SECRETS_LOST, saying why, only once the server holding its secrets has stopped', async () => {
    const c = await startTestServer({ DATABASE_URL: databaseUrl, CONCIERGE_MODEL: 'scripted' }, { apiKey: a.apiKey, dataDir: a.dataDir });
    let stopped = false;
    try {
      const { data } = await call(c, 'POST', '/tasks', { message: 'hello there', secrets: { PAYMENT_TOKEN: 'tok-1a2b3c4d5e6f7a8b' } });
      await waitForStatus(c, data.id, 'completed');
      await c.stop();
      stopped = true;
      expect((await call(b, 'POST', `/tasks/${data.id}/messages`, { message: 'echo $PAYMENT_TOKEN' })).success).toBe(true);
      const failed = await waitForStatus(b, data.id, 'failed');
      expect(failed.error).toMatch(/secrets, which are kept in memory only, are gone: the server that received them has stopped or restarted since/);
      const history = (await call(b, 'GET', `/tasks/${data.id}/history`)).data.messages as Message[];
      expect(history.at(-1)?.interrupted).toMatchObject({ reason: 'failed', code: 'SECRETS_LOST' });
    } finally {
      if (!stopped) await c.stop();
    }
  });

  it('spreads the tasks of a server that died over the live servers instead of one taking them all', async () => {
    const ids: string[] = [];
    for (let index = 0; index < 6; index++) ids.push((await call(a, 'POST', '/tasks', { message: 'slow reply please' })).data.id as string);
    for (const id of ids) await waitForStatus(a, id, 'running');
    const sql = new pg.Client({ connectionString: databaseUrl });
    await sql.connect();
    try {
      // As if the server running them had died: its leases lapse (A's own turns stop at their next write).
      await sql.query("UPDATE tasks SET runner_id = 'a-dead-server', lease_until = $2 WHERE id = ANY($1)", [ids, new Date(Date.now() - 1_000).toISOString()]);
      for (const id of ids) await waitForStatus(b, id, 'completed');
    } finally {
      await sql.end();
    }
    const resumedBy = (server: TestServer) => ids.filter((id) => server.logLines.some((line) => line.includes('resuming task left unfinished') && line.includes(id))).length;
    // Each live server took its share (at most half at a time), so both resumed some.
    expect(resumedBy(a)).toBeGreaterThan(0);
    expect(resumedBy(b)).toBeGreaterThan(0);
    expect(resumedBy(a) + resumedBy(b)).toBeGreaterThanOrEqual(ids.length);
    for (const id of ids) {
      const history = await call(b, 'GET', `/tasks/${id}/history`);
      const reply = history.data.messages.at(-1).content as string;
      expect(reply).toContain('Sentence 40 of 40');
    }
  }, 120_000);

  it('warns at start and in /healthz when a server runs with a data dir the others do not share', async () => {
    const own = await startTestServer({ DATABASE_URL: databaseUrl, CONCIERGE_MODEL: 'scripted' }, { apiKey: a.apiKey });
    try {
      const report = (await (await fetch(`${own.url}/healthz`)).json()) as { warnings?: string[] };
      expect(report.warnings?.[0]).toMatch(/is not the one the other servers of this PostgreSQL database use/);
      expect(own.logLines.some((line) => line.includes('"level":"warn"') && line.includes('data-dir-id'))).toBe(true);
      for (const shared of [a, b]) expect(((await (await fetch(`${shared.url}/healthz`)).json()) as { warnings?: string[] }).warnings).toBeUndefined();
    } finally {
      await own.close();
    }
  });

  it('sends a task’s events only to servers that stream it', async () => {
    const received = (server: TestServer, id: string) => server.logLines.filter((line) => line.includes('event notification received') && line.includes(id)).length;
    const idle = await call(a, 'POST', '/tasks', { message: 'hello there' });
    const idleId = idle.data.id as string;
    const onA = await readSse(`${a.url}/api/v1/tasks/${idleId}/stream`, headers());
    expect(onA.at(-1)?.event).toBe('done');
    expect(received(a, idleId)).toBeGreaterThan(0);
    expect(received(b, idleId)).toBe(0);

    const watched = await call(a, 'POST', '/tasks', { message: 'hello there' });
    const onB = await readSse(`${b.url}/api/v1/tasks/${watched.data.id}/stream`, headers());
    expect(onB.at(-1)?.event).toBe('done');
    const history = (await call(b, 'GET', `/tasks/${watched.data.id}/history`)).data.messages;
    expect(history.at(-1).content).toBe((onB.at(-1)!.data as { finalResponse: string }).finalResponse);
  });
});
