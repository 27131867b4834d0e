// A site owner's token endpoint for the Concierge widget, in Node 20+ with no dependencies.
// This is the example from docs/embedding.md ("Identity and tokens"), runnable as is:
//
//   CONCIERGE_URL=https://concierge.example.com \
//   CONCIERGE_APP_ID=app_... CONCIERGE_APP_SECRET=cs_... PORT=8000 node token-backend.mjs
//
// It serves POST /concierge-token to the site's own pages. The app secret never leaves this server.
import http from 'node:http';

const CONCIERGE_URL = process.env.CONCIERGE_URL.replace(/\/$/, '');
const APP_ID = process.env.CONCIERGE_APP_ID;
const APP_SECRET = process.env.CONCIERGE_APP_SECRET; // keep it on the server: never send it to a browser

/** Exchanges the app credentials for a widget token scoped to one end user. */
async function conciergeToken(endUserId, { env, secrets, expiresIn = '1h' } = {}) {
  const response = await fetch(`${CONCIERGE_URL}/api/v1/auth/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    // env: tenant id, region, plan (reaches the sandbox, never the browser);
    // secrets: per-user credentials (stored encrypted, redacted from any output).
    body: JSON.stringify({ appId: APP_ID, appSecret: APP_SECRET, endUserId, expiresIn, env, secrets }),
  });
  const body = await response.json();
  if (!body.success) throw new Error(`Concierge token exchange failed: ${body.error.code}`);
  return body.data; // { token: "eyJ…", expiresAt: "2026-…Z" }
}

/** Stand-in for your own session lookup: here the user id comes from a `session` cookie. */
function signedInUser(request) {
  const cookie = (request.headers.cookie ?? '').split(';').map((part) => part.trim().split('='));
  return cookie.find(([name, value]) => name === 'session' && value)?.[1];
}

function reply(response, status, payload) {
  response.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
  response.end(JSON.stringify(payload));
}

const server = http.createServer(async (request, response) => {
  if (request.method !== 'POST' || request.url !== '/concierge-token') return reply(response, request.method === 'GET' ? 200 : 404, {});
  const user = signedInUser(request);
  if (!user) return reply(response, 401, { error: 'sign in first' });
  try {
    const { token, expiresAt } = await conciergeToken(user, { env: { CUSTOMER_TIER: `gold-${user}` }, secrets: { CRM_TOKEN: `crm-${user}-s3cret` } });
    reply(response, 200, { token, expiresAt });
  } catch (error) {
    reply(response, 502, { error: error.message });
  }
});

server.listen(Number(process.env.PORT ?? 8000), '127.0.0.1', () => {
  console.log(`token backend listening on http://127.0.0.1:${server.address().port}`);
});
