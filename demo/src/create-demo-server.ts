import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import type { DemoUser } from './demo-user.ts';
import { renderHelpCentrePage } from './render-help-centre-page.ts';
import { type ConciergeCredentials, type ConciergeToken, requestConciergeToken, TokenExchangeError } from './request-concierge-token.ts';

/** What the shop's backend is configured with. */
export interface DemoServerOptions extends ConciergeCredentials {
  /** The signed-in user (the demo has exactly one). */
  user: DemoUser;
  /** Folder with the page's static files (CSS, logo). */
  publicDir: string;
  /** Swaps credentials for a token; replaceable in tests. */
  exchangeToken?: (credentials: ConciergeCredentials, user: DemoUser) => Promise<ConciergeToken>;
  /** Called with a failed token exchange or an unexpected error, so the operator sees why. */
  onError?: (error: unknown) => void;
}

const STATIC_TYPES: Record<string, string> = { '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml' };

function sendJson(response: http.ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
  response.end(JSON.stringify(body));
}

/** True when a browser request comes from another site (a CSRF attempt on the token endpoint). */
function isCrossSite(request: http.IncomingMessage): boolean {
  const fetchSite = request.headers['sec-fetch-site'];
  if (fetchSite !== undefined) return fetchSite !== 'same-origin';
  const origin = request.headers.origin;
  if (origin === undefined) return false;
  try {
    return new URL(origin).host !== request.headers.host;
  } catch {
    return true;
  }
}

/**
 * The Northwind shop's backend: serves the help centre page and `POST /concierge-token`, which mints a
 * widget token for the signed-in user. The app secret stays here; the browser only ever sees the token.
 */
export function createDemoServer(options: DemoServerOptions): http.Server {
  const exchangeToken = options.exchangeToken ?? requestConciergeToken;
  const credentials: ConciergeCredentials = { conciergeUrl: options.conciergeUrl, appId: options.appId, appSecret: options.appSecret };

  const handle = async (request: http.IncomingMessage, response: http.ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? '/', 'http://demo.invalid');

    if (url.pathname === '/concierge-token') {
      if (request.method !== 'POST') return sendJson(response, 405, { error: 'Use POST' });
      if (isCrossSite(request)) return sendJson(response, 403, { error: 'Cross-site token requests are refused' });
      try {
        const { token, expiresAt } = await exchangeToken(credentials, options.user);
        return sendJson(response, 200, { token, expiresAt });
      } catch (error) {
        options.onError?.(error);
        const status = error instanceof TokenExchangeError && error.status < 500 ? 502 : 503;
        return sendJson(response, status, { error: 'The chat is unavailable right now' });
      }
    }

    if (request.method !== 'GET' && request.method !== 'HEAD') return sendJson(response, 405, { error: 'Method not allowed' });

    if (url.pathname === '/healthz') return sendJson(response, 200, { status: 'ok' });

    if (url.pathname === '/' || url.pathname === '/index.html') {
      const html = renderHelpCentrePage({ user: options.user, conciergeUrl: options.conciergeUrl });
      response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
      response.end(request.method === 'HEAD' ? undefined : html);
      return;
    }

    if (url.pathname.startsWith('/assets/')) {
      const name = path.basename(url.pathname);
      const type = STATIC_TYPES[path.extname(name)];
      const file = type ? await fs.readFile(path.join(options.publicDir, name)).catch(() => undefined) : undefined;
      if (file && type) {
        response.writeHead(200, { 'Content-Type': type, 'Cache-Control': 'public, max-age=300' });
        response.end(request.method === 'HEAD' ? undefined : file);
        return;
      }
    }

    response.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
    response.end('Not found');
  };

  return http.createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      options.onError?.(error);
      if (!response.headersSent) sendJson(response, 500, { error: 'Internal error' });
      else response.destroy();
    });
  });
}
