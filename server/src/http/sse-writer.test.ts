import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createSseWriter, type SseWriter } from './sse-writer.ts';

const servers: http.Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
});

/** A real response whose client socket reads nothing (paused), plus a promise of the writer's drop reason. */
async function silentClient(stallTimeoutMs: number, hardBufferedBytes = Number.POSITIVE_INFINITY): Promise<{ writer: SseWriter; dropped: Promise<string>; client: net.Socket }> {
  let resolveDrop!: (reason: string) => void;
  const dropped = new Promise<string>((resolve) => (resolveDrop = resolve));
  let writer!: SseWriter;
  const clients: net.Socket[] = [];
  const ready = new Promise<void>((resolve) => {
    const server = http.createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      writer = createSseWriter(response, { stallTimeoutMs, onDrop: resolveDrop, hardBufferedBytes });
      resolve();
    });
    servers.push(server);
    server.listen(0, '127.0.0.1', () => {
      const client = net.connect((server.address() as AddressInfo).port, '127.0.0.1', () => client.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
      client.on('error', () => {});
      client.pause();
      clients.push(client);
    });
  });
  await ready;
  return { writer, dropped, client: clients[0]! };
}

describe('createSseWriter', () => {
  it('drops a live client that falls behind and then takes no bytes for the stall timeout', async () => {
    const { writer, dropped, client } = await silentClient(300);
    const chunk = 'x'.repeat(64 * 1024);
    // Bounded: far more than the kernel buffers plus the soft bound.
    for (let index = 0; index < 1024 && !writer.dropped; index++) writer.write(chunk);
    expect(await dropped).toBe('stalled');
    expect(writer.dropped).toBe(true);
    client.destroy();
  });

  it('drops a live client at once when it is further behind than the hard bound', async () => {
    const { writer, dropped, client } = await silentClient(60_000, 2 * 1024 * 1024);
    const chunk = 'x'.repeat(64 * 1024);
    for (let index = 0; index < 1024 && !writer.dropped; index++) writer.write(chunk);
    expect(await dropped).toBe('too far behind');
    client.destroy();
  });

  it('drops a paced write that waits the stall timeout for drain', async () => {
    const { writer, dropped, client } = await silentClient(300);
    await writer.writePaced('y'.repeat(64 * 1024 * 1024));
    expect(await dropped).toBe('stalled');
    client.destroy();
  });
});
