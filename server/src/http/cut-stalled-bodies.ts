import type http from 'node:http';
import { ERROR_STATUS } from '@concierge/shared';

// How often in-flight request bodies are looked at; a stall is noticed within idle + this.
const CHECK_EVERY_MS = 500;

const STALLED = JSON.stringify({
  success: false,
  error: { message: 'The request body stopped arriving; send it again without pausing', code: 'REQUEST_TIMEOUT' },
});

interface Receiving {
  response: http.ServerResponse;
  bytesRead: number;
  since: number;
}

/**
 * Answers 408 `REQUEST_TIMEOUT` and closes the connection when a request body makes no progress for
 * `idleMs`. Node's own `requestTimeout` bounds the whole request (minutes, for big uploads); this keeps a
 * client that sends a few bytes and then waits from holding a connection for all of it.
 * Progress is read from the socket's byte count, so handlers keep reading the body however they like.
 */
export function cutStalledBodies(server: http.Server, idleMs: number): void {
  if (idleMs <= 0) return;
  const receiving = new Map<http.IncomingMessage, Receiving>();
  const timer = setInterval(() => {
    const now = Date.now();
    for (const [request, entry] of receiving) {
      if (request.complete || request.destroyed) {
        receiving.delete(request);
        continue;
      }
      const bytesRead = request.socket.bytesRead;
      if (bytesRead !== entry.bytesRead) {
        entry.bytesRead = bytesRead;
        entry.since = now;
      } else if (now - entry.since >= idleMs) {
        receiving.delete(request);
        cut(request, entry.response);
      }
    }
  }, CHECK_EVERY_MS);
  timer.unref();
  server.once('close', () => clearInterval(timer));
  server.prependListener('request', (request: http.IncomingMessage, response: http.ServerResponse) => {
    if (request.complete) return;
    receiving.set(request, { response, bytesRead: request.socket.bytesRead, since: Date.now() });
    request.once('close', () => receiving.delete(request));
  });
}

function cut(request: http.IncomingMessage, response: http.ServerResponse): void {
  const { socket } = request;
  if (response.headersSent) {
    socket.destroy();
    return;
  }
  response.writeHead(ERROR_STATUS.REQUEST_TIMEOUT, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(STALLED),
    Connection: 'close',
  });
  response.end(STALLED, () => socket.destroy());
  // A client that does not read its answer either loses the connection all the same.
  setTimeout(() => socket.destroy(), 2000).unref();
}
