import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../testing/start-test-server.ts';

/** Sends a request's head now and its body when `finish` is called, on one raw connection. */
function openRequest(server: TestServer, method: string, path: string, body: string) {
  const { port } = new URL(server.url);
  const socket = net.connect(Number(port), '127.0.0.1');
  let answer = '';
  socket.setEncoding('utf8').on('data', (chunk: string) => (answer += chunk));
  const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const connected = new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  return {
    async start() {
      await connected;
      socket.write(
        [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1', `Authorization: Bearer ${server.apiKey}`, 'Content-Type: application/json', `Content-Length: ${Buffer.byteLength(body)}`, '', ''].join('\r\n'),
      );
    },
    /** Sends the body; resolves with the raw response once the server closed the connection. */
    async finish() {
      socket.write(body);
      await ended;
      return answer;
    },
  };
}

describe('a server that is draining', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ CONCIERGE_MODEL: 'scripted' });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('refuses work that arrives once it is draining with 503 and Connection: close, and says so in /healthz', async () => {
    const running = await fetch(`${server.url}/api/v1/tasks`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${server.apiKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ message: 'slow reply please' }),
    });
    expect(running.status).toBe(200);
    // A create already on the wire when the drain begins (a kept-alive client mid-request).
    const late = openRequest(server, 'POST', '/api/v1/tasks', JSON.stringify({ message: 'one more' }));
    await late.start();
    expect(await server.server.health()).toMatchObject({ status: 'ok' });
    const closing = server.stop();
    try {
      const answer = await late.finish();
      expect(answer).toMatch(/^HTTP\/1\.1 503 /);
      expect(answer).toMatch(/\r\nconnection: close\r\n/i);
      expect(answer).toMatch(/\r\nretry-after: 1\r\n/i);
      expect(answer).toContain('"code":"SERVICE_UNAVAILABLE"');
      expect(await server.server.health()).toMatchObject({ status: 'unavailable', draining: true });
    } finally {
      await closing;
    }
  }, 60_000);
});
