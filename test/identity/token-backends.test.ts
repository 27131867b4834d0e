import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findFreePort, type SpawnedConcierge, spawnConcierge } from '../support/spawn-concierge.ts';
import { waitFor } from '../support/wait-for.ts';

// The token endpoint examples of docs/embedding.md, run as a site owner would run them.
const HERE = path.dirname(fileURLToPath(import.meta.url));
const BACKENDS = [
  { language: 'Python (standard library, urllib)', command: 'python3', script: path.join(HERE, 'token_backend.py') },
  { language: 'Node (no dependencies, fetch)', command: process.execPath, script: path.join(HERE, 'token-backend.mjs') },
];

let concierge: SpawnedConcierge;

beforeAll(async () => {
  concierge = await spawnConcierge({ env: { CONCIERGE_MODEL: 'scripted:fast' } });
});
afterAll(async () => {
  await concierge?.stop();
});

describe.each(BACKENDS)('a site owner’s token backend in $language', ({ command, script }) => {
  let backend: ChildProcess;
  let backendUrl: string;
  const backendOutput: string[] = [];

  beforeAll(async () => {
    const port = await findFreePort();
    backendUrl = `http://127.0.0.1:${port}`;
    // The site's pages come from the same origin as its backend, so that is the app's allowed origin.
    const created = await concierge.cli(['apps', 'create', '--project', 'default', '--name', 'Shop', '--origin', backendUrl, '--json']);
    expect(created.code, created.stderr).toBe(0);
    const app = JSON.parse(created.stdout) as { appId: string; appSecret: string };
    backend = spawn(command, [script], {
      env: { PATH: process.env.PATH, CONCIERGE_URL: concierge.url, CONCIERGE_APP_ID: app.appId, CONCIERGE_APP_SECRET: app.appSecret, PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    backend.stdout?.setEncoding('utf8').on('data', (chunk: string) => backendOutput.push(chunk));
    backend.stderr?.setEncoding('utf8').on('data', (chunk: string) => backendOutput.push(chunk));
    await waitFor('the token backend to listen', async () => (await fetch(backendUrl).catch(() => undefined))?.ok);
  });

  afterAll(() => {
    backend?.kill('SIGTERM');
  });

  async function tokenFor(user: string): Promise<{ token: string; expiresAt: string }> {
    const response = await fetch(`${backendUrl}/concierge-token`, { method: 'POST', headers: { Cookie: `session=${user}` } });
    expect(response.status, `${await response.clone().text()} ${backendOutput.join('')}`).toBe(200);
    return (await response.json()) as { token: string; expiresAt: string };
  }

  it('exchanges the app secret for a widget token that works from the site’s origin', async () => {
    const { token, expiresAt } = await tokenFor('alice');
    expect(token).toMatch(/^eyJ/);
    expect(new Date(expiresAt).getTime() - Date.now()).toBeGreaterThan(55 * 60_000);

    // What the browser does: a preflight, then the Task API with the token and its Origin.
    const preflight = await fetch(`${concierge.url}/api/v1/tasks`, {
      method: 'OPTIONS',
      headers: { Origin: backendUrl, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization, content-type' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(backendUrl);

    const browser = { Authorization: `Bearer ${token}`, Origin: backendUrl };
    const created = await fetch(`${concierge.url}/api/v1/tasks`, {
      method: 'POST',
      headers: { ...browser, 'Content-Type': 'application/json' },
      body: JSON.stringify({ message: 'echo $CUSTOMER_TIER' }),
    });
    expect(created.status).toBe(200);
    expect(created.headers.get('access-control-allow-origin')).toBe(backendUrl);
    const { data } = (await created.json()) as { data: { id: string } };
    await waitFor('the task to complete', async () => {
      const task = (await (await fetch(`${concierge.url}/api/v1/tasks/${data.id}`, { headers: browser })).json()) as { data: { status: string } };
      return task.data.status === 'completed';
    });
    // The env the backend gave at exchange time reached the sandbox.
    const history = await (await fetch(`${concierge.url}/api/v1/tasks/${data.id}/history`, { headers: browser })).text();
    expect(history).toContain('gold-alice');
    const listed = (await (await fetch(`${concierge.url}/api/v1/tasks`, { headers: browser })).json()) as { data: { id: string }[] };
    expect(listed.data.map((task) => task.id)).toEqual([data.id]);
  });

  it('keeps the token useless from another origin and for another end user’s tasks', async () => {
    const alice = await tokenFor('alice');
    const bob = await tokenFor('bob');
    const foreign = await fetch(`${concierge.url}/api/v1/tasks`, { headers: { Authorization: `Bearer ${alice.token}`, Origin: 'https://evil.example.net' } });
    expect(foreign.status).toBe(403);
    expect(((await foreign.json()) as { error: { code: string } }).error.code).toBe('ORIGIN_NOT_ALLOWED');
    const bobs = (await (await fetch(`${concierge.url}/api/v1/tasks`, { headers: { Authorization: `Bearer ${bob.token}`, Origin: backendUrl } })).json()) as { data: unknown[] };
    expect(bobs.data).toEqual([]);
  });

  it('never lets the app secret or the end user’s secrets reach the browser or the logs', async () => {
    const response = await fetch(`${backendUrl}/concierge-token`, { method: 'POST', headers: { Cookie: 'session=carol' } });
    const text = await response.text();
    expect(Object.keys(JSON.parse(text)).sort()).toEqual(['expiresAt', 'token']);
    expect(text).not.toContain('cs_');
    expect(text).not.toContain('crm-carol-s3cret');
    const logs = concierge.lines.join('\n');
    expect(logs).not.toContain('crm-carol-s3cret');
    expect(logs).not.toMatch(/cs_[0-9a-f]{64}/);
  });
});
