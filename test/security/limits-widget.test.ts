import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiClient, createApiClient, request } from '../support/api-client.ts';
import { type FakeModel, startFakeModel } from '../support/fake-model.ts';
import { type SpawnedConcierge, spawnConcierge } from '../support/spawn-concierge.ts';
import { newMarker, scriptedReply } from './agent-harness.ts';

// A few anonymous visitors must not fill the host: widget traffic has caps on running tasks per end user
// and per app, and follow-ups and approvals are rate limited like task creation.

const ORIGIN = 'http://widget.limits.test';
let fake: FakeModel;
let server: SpawnedConcierge;
let app: { appId: string; appSecret: string };

beforeAll(async () => {
  fake = await startFakeModel();
  server = await spawnConcierge({ llmBaseUrl: fake.url });
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'limits-'));
  const projectFile = path.join(dir, 'projects.json');
  const rateLimits = { maxActiveTasksPerEndUser: 1, maxActiveTasksPerApp: 2, followUpsPerMinute: 2, approvalsPerMinute: 2 };
  await fs.writeFile(projectFile, JSON.stringify({ projects: { default: { rateLimits } } }));
  const applied = await server.cli(['projects', 'apply', projectFile]);
  if (applied.code !== 0) throw new Error(`projects apply failed: ${applied.stderr}`);
  const created = await server.cli(['apps', 'create', '--project', 'default', '--name', 'limits-test', '--origin', ORIGIN, '--json']);
  if (created.code !== 0) throw new Error(`apps create failed: ${created.stderr}`);
  app = JSON.parse(created.stdout) as { appId: string; appSecret: string };
});

afterAll(async () => {
  await server?.stop();
  await fake?.close();
});

async function widgetClient(endUserId: string): Promise<ApiClient> {
  const exchange = await request(`${server.url}/api/v1/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ appId: app.appId, appSecret: app.appSecret, endUserId }),
  });
  expect(exchange.status).toBe(200);
  const client = createApiClient(server.url, exchange.body.data.token as string);
  // Every call of this client, its status polling included, comes from the app's page.
  Object.assign(client.auth, { origin: ORIGIN });
  return client;
}

const origin = { origin: ORIGIN };

/** Starts a widget task whose agent runs a long shell command; resolves once it runs. */
async function startLongTask(client: ApiClient): Promise<string> {
  const marker = newMarker('long');
  fake.scenario(marker, scriptedReply([{ name: 'run_shell_command', args: { command: 'sleep 120' } }]));
  const created = await client.call('POST', '/tasks', { message: `Hold on ${marker}` }, origin);
  expect(created.status).toBe(200);
  const taskId = created.body.data.id as string;
  await client.waitForStatus(taskId, 'running');
  return taskId;
}

describe('widget concurrency limits', () => {
  it('refuses a second running task of one end user and a third of the app with 429, and accepts again once one is cancelled', async () => {
    const alice = await widgetClient('alice');
    const first = await startLongTask(alice);
    const refused = await alice.call('POST', '/tasks', { message: 'another one' }, origin);
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ success: false, error: { code: 'RATE_LIMITED', message: expect.stringMatching(/running tasks for this end user/) } });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);

    const bob = await widgetClient('bob');
    const second = await startLongTask(bob);
    const carol = await widgetClient('carol');
    const appFull = await carol.call('POST', '/tasks', { message: 'me too' }, origin);
    expect(appFull.status).toBe(429);
    expect(appFull.body.error.message).toMatch(/running tasks for widget app/);

    // Cancel answers although the tool call is still running.
    expect((await alice.call('DELETE', `/tasks/${first}`, undefined, origin)).status).toBe(200);
    expect((await bob.call('DELETE', `/tasks/${second}`, undefined, origin)).status).toBe(200);
    const marker = newMarker('after');
    fake.scenario(marker, scriptedReply([], 'Back again.'));
    const again = await alice.call('POST', '/tasks', { message: `Hello ${marker}` }, origin);
    expect(again.status).toBe(200);
    const done = await alice.waitForStatus(again.body.data.id as string, ['completed', 'failed'], 30_000);
    expect(done.status).toBe('completed');
  });
});

describe('widget follow-up and approval rate limits', () => {
  it('answers 429 RATE_LIMITED with Retry-After past the follow-ups per minute', async () => {
    const dave = await widgetClient('dave');
    const marker = newMarker('chat');
    fake.scenario(marker, scriptedReply([], 'Noted.'));
    const created = await dave.call('POST', '/tasks', { message: `Hi ${marker}` }, origin);
    expect(created.status).toBe(200);
    const taskId = created.body.data.id as string;
    await dave.waitForStatus(taskId, ['completed'], 30_000);
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      const followUp = await dave.call('POST', `/tasks/${taskId}/messages`, { message: `More ${marker}` }, origin);
      statuses.push(followUp.status);
      if (followUp.status === 429) {
        expect(followUp.body.error).toMatchObject({ code: 'RATE_LIMITED', message: expect.stringMatching(/follow-up messages/) });
        expect(Number(followUp.headers.get('retry-after'))).toBeGreaterThan(0);
        break;
      }
      await dave.waitForStatus(taskId, ['completed'], 30_000);
    }
    expect(statuses).toEqual([200, 200, 429]);
  });

  it('answers 429 RATE_LIMITED past the approvals per minute', async () => {
    const erin = await widgetClient('erin');
    const marker = newMarker('approve');
    fake.scenario(marker, scriptedReply([], 'Fine.'));
    const created = await erin.call('POST', '/tasks', { message: `Hi ${marker}` }, origin);
    const taskId = created.body.data.id as string;
    await erin.waitForStatus(taskId, ['completed'], 30_000);
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      const approval = await erin.call('POST', `/tasks/${taskId}/tools/no-such-call/approve`, { outcome: 'proceed_once' }, origin);
      statuses.push(approval.status);
      if (attempt === 2) expect(approval.body.error).toMatchObject({ code: 'RATE_LIMITED', message: expect.stringMatching(/approval decisions/) });
    }
    expect(statuses[2]).toBe(429);
    expect(statuses.slice(0, 2)).not.toContain(429);
  });
});
