import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeModel, startFakeModel } from '../support/fake-model.ts';
import { type SpawnedConcierge, spawnConcierge } from '../support/spawn-concierge.ts';

// A client that opens many connections and sends each request body a few bytes at a time, then waits:
// before, every one held a connection for the whole request timeout (5 min) and 1024 of them froze the
// server for everyone. Now a stalled body is answered 408 and one address cannot take every connection.

const BODY_IDLE_TIMEOUT_MS = 1500;
const PER_IP = 4;

let fake: FakeModel;
let server: SpawnedConcierge;
let port: number;

beforeAll(async () => {
  fake = await startFakeModel();
  server = await spawnConcierge({
    llmBaseUrl: fake.url,
    env: {
      CONCIERGE_BODY_IDLE_TIMEOUT_MS: String(BODY_IDLE_TIMEOUT_MS),
      // Long enough that only the idle rule can cut the body within the test.
      CONCIERGE_REQUEST_TIMEOUT_MS: '120000',
      CONCIERGE_HEADERS_TIMEOUT_MS: '60000',
      CONCIERGE_MAX_CONNECTIONS_PER_IP: String(PER_IP),
    },
  });
  port = Number(new URL(server.url).port);
});

afterAll(async () => {
  await server?.stop();
  await fake?.close();
});

interface RawConnection {
  socket: net.Socket;
  answer(): string;
  closed: Promise<void>;
}

/** A raw connection from `localAddress` (any 127.x address reaches the loopback server). */
function open(localAddress = '127.0.0.1'): Promise<RawConnection> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress }, () => resolve({ socket, answer: () => text, closed }));
    let text = '';
    const closed = new Promise<void>((done) => socket.once('close', () => done()));
    socket.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
    socket.once('error', reject);
  });
}

function stalledTokenRequest(): string {
  return [
    'POST /api/v1/auth/token HTTP/1.1',
    'Host: 127.0.0.1',
    'Content-Type: application/json',
    'Content-Length: 5000',
    '',
    '{"appId":"',
  ].join('\r\n');
}

async function healthz(localAddress: string): Promise<string> {
  const connection = await open(localAddress);
  connection.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
  await connection.closed;
  return connection.answer();
}

describe('slow clients', () => {
  it('answers a request body that stops arriving with 408 REQUEST_TIMEOUT and closes the connection', async () => {
    const connection = await open();
    connection.socket.write(stalledTokenRequest());
    await connection.closed;
    expect(connection.answer()).toMatch(/^HTTP\/1\.1 408 /);
    expect(connection.answer()).toContain('"code":"REQUEST_TIMEOUT"');
    expect(connection.answer()).toMatch(/connection: close/i);
  });

  it('keeps a body that arrives slowly but steadily', async () => {
    const body = JSON.stringify({ appId: 'app_missing', secret: 'x'.repeat(40), endUserId: 'u1' });
    const connection = await open();
    connection.socket.write(
      ['POST /api/v1/auth/token HTTP/1.1', 'Host: 127.0.0.1', 'Content-Type: application/json', `Content-Length: ${body.length}`, 'Connection: close', '', ''].join('\r\n'),
    );
    // Each piece lands well inside the idle timeout; the whole body takes longer than one timeout.
    const pieces = body.match(/.{1,5}/g) ?? [];
    for (const piece of pieces) {
      connection.socket.write(piece);
      await new Promise((resolve) => setTimeout(resolve, BODY_IDLE_TIMEOUT_MS / 10));
    }
    await connection.closed;
    expect(connection.answer()).not.toMatch(/^HTTP\/1\.1 408 /);
    expect(connection.answer()).toMatch(/^HTTP\/1\.1 4\d\d /);
    expect(connection.answer()).toContain('"success":false');
  });

  it('lets one address hold only its share of connections; others are still served', async () => {
    const held = await Promise.all(Array.from({ length: PER_IP }, () => open('127.0.0.1')));
    for (const connection of held) connection.socket.write(stalledTokenRequest().slice(0, 40));
    const refused = await healthz('127.0.0.1');
    expect(refused).toMatch(/^HTTP\/1\.1 503 /);
    expect(refused).toContain('Too many open connections from your address');
    const other = await healthz('127.0.0.2');
    expect(other).toMatch(/^HTTP\/1\.1 200 /);
    for (const connection of held) connection.socket.destroy();
    await Promise.all(held.map((connection) => connection.closed));
  });
});
