import http from 'node:http';
import type { Socket } from 'node:net';
import type Koa from 'koa';
import { cutStalledBodies } from './cut-stalled-bodies.ts';

/** What a slow or greedy client may hold: time to send headers and body, idle keep-alive, open connections. */
export interface HttpLimits {
  /** Time to receive the request headers; past it Node answers 408 and closes. */
  headersTimeoutMs: number;
  /** Time to receive the whole request (headers and body). An SSE response is not cut by it: it only covers receiving. */
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** A request body that makes no progress this long is answered 408 REQUEST_TIMEOUT and closed (0: off). */
  bodyIdleTimeoutMs: number;
  /** Open connections at once; the next one is answered 503 SERVICE_UNAVAILABLE and closed. */
  maxConnections: number;
  /** Open connections from one remote address (0: no cap; behind a proxy every client shares its address). */
  maxConnectionsPerIp: number;
}

// Node checks the two timeouts on this interval (30 s by default), so a short timeout needs a short check.
const TIMEOUT_CHECK_INTERVAL_MS = 1000;

// How long a refused connection may stay half-closed while the client reads its 503.
const REFUSED_LINGER_MS = 2000;

function overCapacity(message: string): string {
  const body = JSON.stringify({ success: false, error: { message, code: 'SERVICE_UNAVAILABLE' } });
  return [
    'HTTP/1.1 503 Service Unavailable',
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Retry-After: 5',
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}

const SERVER_FULL = overCapacity('The server has too many open connections; retry shortly');
const ADDRESS_FULL = overCapacity('Too many open connections from your address; close some and retry shortly');

/** An http.Server for the Koa app with header, body and keep-alive timeouts and a connection cap that answers 503. */
export function createHttpServer(app: Koa, limits: HttpLimits): http.Server {
  const refused = new WeakSet<Socket>();
  const handle = app.callback();
  const server = http.createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      connectionsCheckingInterval: Math.min(TIMEOUT_CHECK_INTERVAL_MS, limits.headersTimeoutMs || TIMEOUT_CHECK_INTERVAL_MS),
    },
    // A request that still arrives on a refused connection already has its 503: it is not handled.
    (request, response) => (refused.has(request.socket) ? undefined : handle(request, response)),
  );
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  cutStalledBodies(server, limits.bodyIdleTimeoutMs);
  const open = new Set<Socket>();
  const perAddress = new Map<string, number>();
  const refuse = (socket: Socket, answer: string) => {
    refused.add(socket);
    socket.on('error', () => {});
    socket.end(answer);
    setTimeout(() => socket.destroy(), REFUSED_LINGER_MS).unref();
  };
  // `server.maxConnections` would drop the socket without a word; a 503 tells the client to come back.
  server.prependListener('connection', (socket: Socket) => {
    if (open.size >= limits.maxConnections) return refuse(socket, SERVER_FULL);
    const address = socket.remoteAddress ?? '';
    const fromAddress = perAddress.get(address) ?? 0;
    // One client must not take every connection the server has (a slow-body flood holds each for minutes).
    if (limits.maxConnectionsPerIp > 0 && fromAddress >= limits.maxConnectionsPerIp) return refuse(socket, ADDRESS_FULL);
    open.add(socket);
    perAddress.set(address, fromAddress + 1);
    socket.once('close', () => {
      open.delete(socket);
      const left = (perAddress.get(address) ?? 1) - 1;
      if (left > 0) perAddress.set(address, left);
      else perAddress.delete(address);
    });
  });
  return server;
}
