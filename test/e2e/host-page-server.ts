import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** CSS a careless (or hostile) host page might ship: it must not reach into the widget. */
export const HOSTILE_HOST_CSS = `
html { font-size: 40px !important; }
* { color: red !important; font-size: 40px !important; font-family: "Comic Sans MS", cursive !important;
    background: yellow !important; line-height: 3 !important; letter-spacing: 4px !important; }
button { display: none !important; }
textarea, input { display: none !important; }
div, p, section, header, form { padding: 50px !important; border: 5px solid lime !important; margin: 30px !important; }
body > * { opacity: 0.2 !important; transform: rotate(3deg) !important; }
concierge-chat { display: none !important; visibility: hidden !important; }
svg { width: 200px !important; height: 200px !important; }
`;

/** A widget app's credentials, known only to the site owner's backend. */
export interface WidgetAppCredentials {
  appId: string;
  appSecret: string;
}

/** What a test host page embeds: the widget's options (without functions) and how its backend mints tokens. */
export interface HostPageOptions {
  /** The widget app the page's backend exchanges tokens for. */
  app: WidgetAppCredentials;
  /** `window.ConciergeChat` keys except `host` and `fetchToken` (both filled in). */
  widget?: Record<string, unknown>;
  /** The end user the page's backend asks a token for. */
  endUserId: string;
  /** `expiresIn` for the token exchange (server default when absent). */
  expiresIn?: string;
  /** Leave out `fetchToken` (only `widget.token`, if any). */
  withoutFetchToken?: boolean;
  /** Make the backend's token endpoint answer 503 (the exchange is not even tried). */
  tokenEndpointFails?: boolean;
  /** Add the hostile stylesheet. */
  hostileCss?: boolean;
  /** A `<div id="chat">` for `container: '#chat'` (inline mode). */
  inlineContainer?: boolean;
  /** `<html lang>` of the host page. */
  lang?: string;
  /** Serve the page with the strict Content-Security-Policy of docs/embedding.md (nonces for its own inline parts). */
  strictCsp?: boolean;
  /** More CSS for the host page (e.g. a dark page behind a dark widget in screenshots). */
  pageCss?: string;
}

/** The site owner's side: serves pages that embed the widget and a token endpoint holding the app secret. */
export interface HostPageServer {
  /** e.g. `http://127.0.0.1:41234` (the origin the widget app allows). */
  origin: string;
  /** Registers a page and returns its URL. */
  addPage(options: HostPageOptions): string;
  /** Changes a registered page's options (e.g. make its token endpoint work again). */
  updatePage(pageUrl: string, patch: Partial<HostPageOptions>): void;
  /** How many times the page's backend was asked for a token. */
  tokenCalls(pageUrl: string): number;
  /** Mints a token the way the page's backend does (for tests that hand the widget an initial `token`). */
  mintToken(app: WidgetAppCredentials, endUserId: string, expiresIn?: string): Promise<string>;
  close(): Promise<void>;
}

function escapeScript(json: string): string {
  return json.replace(/</g, '\\u003c');
}

/** The strict policy docs/embedding.md recommends: the Concierge origin in script-src and connect-src, nothing else. */
export function toStrictCsp(nonce: string, conciergeUrl: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}' ${conciergeUrl}`,
    `connect-src 'self' ${conciergeUrl}`,
    `style-src 'nonce-${nonce}'`,
    "img-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

function renderPage(id: string, options: HostPageOptions, conciergeUrl: string, nonce: string): string {
  const config = { host: conciergeUrl, ...options.widget };
  const fetchToken = options.withoutFetchToken
    ? ''
    : `window.ConciergeChat.fetchToken = async () => {
    window.__tokenCalls = (window.__tokenCalls || 0) + 1;
    const response = await fetch('/token?page=${id}', { method: 'POST' });
    if (!response.ok) throw new Error('token endpoint answered ' + response.status);
    return (await response.json()).token;
  };`;
  return `<!doctype html>
<html lang="${options.lang ?? 'en'}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Acme shop</title>
<style nonce="${nonce}">body { font-family: Georgia, serif; margin: 0; padding: 32px; background: #faf7f0; color: #222; } main { max-width: 640px; }
#chat { width: 420px; height: 560px; }</style>
${options.hostileCss ? `<style nonce="${nonce}">${HOSTILE_HOST_CSS}</style>` : ''}
${options.pageCss ? `<style nonce="${nonce}">${options.pageCss}</style>` : ''}
</head>
<body>
<main>
<h1 id="host-title">Acme shop</h1>
<p>Hand-made teapots since 1921. Ask our assistant anything about your order.</p>
<pre id="host-pre">host page text</pre>
<button id="host-button" type="button">A host button</button>
${options.inlineContainer ? '<div id="chat"></div>' : ''}
</main>
<script nonce="${nonce}">
window.ConciergeChat = ${escapeScript(JSON.stringify(config))};
${fetchToken}
</script>
<script src="${conciergeUrl}/widget/concierge.js" async></script>
</body>
</html>`;
}

/**
 * Starts the host page server on its own port (another origin than Concierge). Its `/token` endpoint
 * exchanges the app credentials for a widget JWT server-side, as a real site's backend does.
 */
export async function startHostPageServer(options: { conciergeUrl: string }): Promise<HostPageServer> {
  const pages = new Map<string, HostPageOptions & { tokenCalls: number }>();
  let nextId = 0;

  const exchange = async (app: WidgetAppCredentials, endUserId: string, expiresIn?: string): Promise<{ status: number; body: string }> => {
    const response = await fetch(`${options.conciergeUrl}/api/v1/auth/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ appId: app.appId, appSecret: app.appSecret, endUserId, ...(expiresIn ? { expiresIn } : {}) }),
    });
    const envelope = (await response.json()) as { success: boolean; data?: { token: string; expiresAt: string } };
    if (!envelope.success || !envelope.data) return { status: 502, body: JSON.stringify(envelope) };
    return { status: 200, body: JSON.stringify({ token: envelope.data.token, expiresAt: envelope.data.expiresAt }) };
  };

  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://host.invalid');
    const page = pages.get(url.searchParams.get('page') ?? '');
    const answer = (status: number, type: string, body: string, headers: Record<string, string> = {}) => {
      response.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store', ...headers });
      response.end(body);
    };
    if (url.pathname === '/favicon.ico') return answer(204, 'image/x-icon', '');
    if (!page) return answer(404, 'text/plain', 'no such page');
    if (url.pathname === '/' && request.method === 'GET') {
      const nonce = randomBytes(16).toString('base64');
      const headers: Record<string, string> = page.strictCsp ? { 'Content-Security-Policy': toStrictCsp(nonce, options.conciergeUrl) } : {};
      return answer(200, 'text/html; charset=utf-8', renderPage(url.searchParams.get('page')!, page, options.conciergeUrl, nonce), headers);
    }
    if (url.pathname === '/token' && request.method === 'POST') {
      page.tokenCalls += 1;
      if (page.tokenEndpointFails) return answer(503, 'application/json', '{"error":"down for maintenance"}');
      exchange(page.app, page.endUserId, page.expiresIn).then(
        (result) => answer(result.status, 'application/json', result.body),
        (error: unknown) => answer(500, 'text/plain', String(error)),
      );
      return;
    }
    answer(404, 'text/plain', 'not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    origin,
    addPage(pageOptions) {
      const id = `p${++nextId}`;
      pages.set(id, { ...pageOptions, tokenCalls: 0 });
      return `${origin}/?page=${id}`;
    },
    updatePage(pageUrl, patch) {
      const page = pages.get(new URL(pageUrl).searchParams.get('page') ?? '');
      if (!page) throw new Error(`no page ${pageUrl}`);
      Object.assign(page, patch);
    },
    tokenCalls(pageUrl) {
      return pages.get(new URL(pageUrl).searchParams.get('page') ?? '')?.tokenCalls ?? 0;
    },
    async mintToken(app, endUserId, expiresIn) {
      const result = await exchange(app, endUserId, expiresIn);
      if (result.status !== 200) throw new Error(`token exchange failed: ${result.body}`);
      return (JSON.parse(result.body) as { token: string }).token;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
