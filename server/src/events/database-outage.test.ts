import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestDatabase } from '../testing/create-test-database.ts';
import { readSse } from '../testing/read-sse.ts';
import { startCuttableProxy } from '../testing/start-cuttable-proxy.ts';
import { startTestServer, type TestServer } from '../testing/start-test-server.ts';

// PostgreSQL goes away for a few seconds while a turn runs and a client streams it: the server stays
// up, answers 503 meanwhile, sends streams away to reconnect, and once the database is back the turn
// finishes and the bus delivers again. (An outage used to crash every server that ran a task.)
describe('a PostgreSQL outage', () => {
  let server: TestServer;
  let proxy: Awaited<ReturnType<typeof startCuttableProxy>>;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const database = await createTestDatabase(inject('databaseUrl'));
    drop = database.drop;
    const url = new URL(database.url);
    proxy = await startCuttableProxy({ host: url.hostname, port: Number(url.port) });
    url.port = String(proxy.port);
    // The scripted model with its pauses: a slow reply takes seconds, long enough to be cut mid-way.
    server = await startTestServer({ DATABASE_URL: url.toString(), CONCIERGE_MODEL: 'scripted' });
  });
  afterAll(async () => {
    await server?.close();
    await proxy?.close();
    await drop?.();
  });

  const headers = () => ({ Authorization: `Bearer ${server.apiKey}`, 'Content-Type': 'application/json' });
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${server.url}/api/v1${path}`, { method, headers: headers(), ...(body ? { body: JSON.stringify(body) } : {}) });
    return { status: response.status, headers: response.headers, body: (await response.json()) as { success: boolean; data: any; error?: { code: string } } };
  };
  const waitFor = async (check: () => Promise<boolean>, what: string) => {
    for (let i = 0; i < 600; i++) {
      if (await check().catch(() => false)) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`${what} did not happen within 30 s`);
  };

  it('is weathered: 503 while it lasts, the stream told to reconnect, the turn finished and live events again after', async () => {
    const created = await call('POST', '/tasks', { message: 'slow reply please' });
    expect(created.status).toBe(200);
    const id = created.body.data.id as string;
    const live = readSse(`${server.url}/api/v1/tasks/${id}/stream`, headers(), { timeoutMs: 60_000 });
    await waitFor(async () => (await call('GET', `/tasks/${id}`)).body.data.output?.content?.includes('Sentence 3 of 40') === true, 'the reply starting');

    await proxy.cut();
    try {
      // The stream ends without a terminal event, so clients reconnect with Last-Event-ID.
      const cutShort = await live;
      expect(cutShort.some((event) => ['done', 'error'].includes(event.event))).toBe(false);
      const lastId = cutShort.filter((event) => event.id).at(-1)?.id;
      expect(lastId).toMatch(/^\d+$/);
      const during = await call('GET', '/tasks');
      expect(during.status).toBe(503);
      expect(during.body.error?.code).toBe('SERVICE_UNAVAILABLE');
      expect(during.headers.get('retry-after')).toBe('5');
      expect((await fetch(`${server.url}/healthz`)).status).toBe(503);
      expect((await fetch(`${server.url}/readyz`)).status).toBe(503);
      await new Promise((resolve) => setTimeout(resolve, 2_000));
    } finally {
      await proxy.restore();
    }

    await waitFor(async () => (await fetch(`${server.url}/healthz`)).status === 200, 'readiness coming back');
    await waitFor(async () => (await call('GET', `/tasks/${id}`)).body.data.status === 'completed', 'the turn finishing');
    const history = await call('GET', `/tasks/${id}/history`);
    const reply = history.body.data.messages.at(-1).content as string;
    expect(reply.match(/Sentence 1 of 40/g)).toHaveLength(1);
    expect(reply).toContain('Sentence 40 of 40');

    // Live delivery works again: a new task streams to its done.
    const next = await call('POST', '/tasks', { message: 'hello again' });
    const events = await readSse(`${server.url}/api/v1/tasks/${next.body.data.id}/stream`, headers(), { timeoutMs: 30_000 });
    expect(events.at(-1)?.event).toBe('done');
    expect(server.logLines.some((line) => line.includes('the PostgreSQL LISTEN connection is back'))).toBe(true);
  }, 90_000);
});
