import { existsSync, readdirSync, statSync } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiClient, createApiClient } from '../support/api-client.ts';
import { type FakeModel, startFakeModel } from '../support/fake-model.ts';
import { type SpawnedConcierge, spawnConcierge } from '../support/spawn-concierge.ts';
import { runToolTask } from './agent-harness.ts';

// Red team: each upload was staged in full (20 files of 50 MB) before the workspace quota was checked,
// and parallel uploads were not limited: three requests put 2.6 GB on disk against a 100 MB quota.
// An upload now stops at what the workspace has free, and a caller has at most two in progress.

const QUOTA_MB = 8;
const MB = 1024 * 1024;
const BOUNDARY = 'xxUPLOADxx';

let fake: FakeModel;
let server: SpawnedConcierge;
let api: ApiClient;
let apiKey: string;

beforeAll(async () => {
  fake = await startFakeModel();
  server = await spawnConcierge({ llmBaseUrl: fake.url, env: { LOG_LEVEL: 'warn' } });
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'upload-budget-'));
  const projectFile = path.join(dir, 'projects.json');
  await fs.writeFile(projectFile, JSON.stringify({ projects: { default: { sandbox: { workspaceQuotaMb: QUOTA_MB } } } }));
  const applied = await server.cli(['projects', 'apply', projectFile]);
  if (applied.code !== 0) throw new Error(`projects apply failed: ${applied.stderr}`);
  apiKey = (await server.createApiKey()).key;
  api = createApiClient(server.url, apiKey);
});

afterAll(async () => {
  await server?.stop();
  await fake?.close();
});

/** Bytes currently staged by the server (every file under its staging dir). */
function stagedBytes(): number {
  const dir = path.join(server.dataDir, 'staging');
  if (!existsSync(dir)) return 0;
  let total = 0;
  for (const entry of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    try {
      const stat = statSync(path.join(dir, entry));
      if (stat.isFile()) total += stat.size;
    } catch {
      // Removed while we looked: it no longer counts.
    }
  }
  return total;
}

/** A multipart upload sent by hand, a megabyte at a time, so the test sees what the server does midway. */
function openUpload(target: string, key = apiKey) {
  const { port } = new URL(server.url);
  const socket = net.connect(Number(port), '127.0.0.1');
  socket.on('error', () => {});
  let answer = '';
  socket.setEncoding('utf8').on('data', (chunk: string) => (answer += chunk));
  const ready = new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  const head = [
    `POST /api/v1${target} HTTP/1.1`,
    'Host: 127.0.0.1',
    `Authorization: Bearer ${key}`,
    `Content-Type: multipart/form-data; boundary=${BOUNDARY}`,
    `Content-Length: ${200 * MB}`,
    '',
    `--${BOUNDARY}`,
    'Content-Disposition: form-data; name="message"',
    '',
    'here are my files',
    `--${BOUNDARY}`,
    'Content-Disposition: form-data; name="files"; filename="big.bin"',
    'Content-Type: application/octet-stream',
    '',
    '',
  ].join('\r\n');
  return {
    async start() {
      await ready;
      socket.write(head);
    },
    /** Sends one more megabyte unless the server has answered; resolves once the socket took it. */
    sendMegabyte(): Promise<boolean> {
      if (answer !== '' || socket.destroyed) return Promise.resolve(false);
      return new Promise((resolve) => socket.write(Buffer.alloc(MB, 120), () => resolve(true)));
    },
    status: () => Number(/^HTTP\/1\.1 (\d+)/.exec(answer)?.[1] ?? 0),
    answer: () => answer,
    close: () => socket.destroy(),
  };
}

async function waitFor(check: () => boolean) {
  for (let attempt = 0; attempt < 100 && !check(); attempt++) await new Promise((resolve) => setTimeout(resolve, 50));
}

describe('uploads against the workspace budget', () => {
  it('stops reading a new task’s upload once it passes the workspace quota, before it reaches the disk', async () => {
    const upload = openUpload('/tasks');
    await upload.start();
    let sent = 0;
    let peak = 0;
    try {
      while (sent < 40 && (await upload.sendMegabyte())) {
        sent += 1;
        await new Promise((resolve) => setTimeout(resolve, 20));
        peak = Math.max(peak, stagedBytes());
      }
      await waitFor(() => upload.status() !== 0);
      expect(upload.status()).toBe(413);
      expect(upload.answer()).toContain('PAYLOAD_TOO_LARGE');
      expect(upload.answer()).toContain(`the ${QUOTA_MB} MB the task's workspace has free`);
    } finally {
      upload.close();
    }
    expect(sent).toBeLessThan(40);
    expect(peak).toBeLessThanOrEqual((QUOTA_MB + 1) * MB);
    await waitFor(() => stagedBytes() === 0);
    expect(stagedBytes()).toBe(0);
    expect((await api.call('GET', '/tasks')).body.pagination.total).toBe(0);
  });

  it('gives a follow-up upload only what the task’s workspace has free', async () => {
    const run = await runToolTask(api, fake, 'fill', [{ name: 'run_shell_command', args: { command: 'head -c 6000000 /dev/zero > filler.bin' } }]);
    expect(run.task.status).toBe('completed');
    const tooBig = new FormData();
    tooBig.append('message', 'one more');
    tooBig.append('files', new Blob([new Uint8Array(3 * MB)]), 'three.bin');
    const refused = await api.call('POST', `/tasks/${run.taskId}/messages`, tooBig);
    expect(refused.status).toBe(413);
    expect(refused.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(refused.body.error.message).toMatch(/the 2(\.\d)? MB the task's workspace has free/);
    const fits = new FormData();
    fits.append('message', 'one more');
    fits.append('files', new Blob([new Uint8Array(MB)]), 'one.bin');
    const accepted = await api.call('POST', `/tasks/${run.taskId}/messages`, fits);
    expect(accepted.status).toBe(200);
    await api.waitForStatus(run.taskId, ['completed', 'failed']);
  });

  it('lets a caller have two uploads in progress, refuses a third with 429, and serves another caller', async () => {
    const slow = [openUpload('/tasks'), openUpload('/tasks')];
    try {
      for (const upload of slow) {
        await upload.start();
        await upload.sendMegabyte();
      }
      await waitFor(() => stagedBytes() >= 2 * MB);
      const third = new FormData();
      third.append('message', 'a third at once');
      third.append('files', new Blob([new Uint8Array(1024)]), 'small.bin');
      const refused = await api.call('POST', '/tasks', third);
      expect(refused.status).toBe(429);
      expect(refused.body.error.code).toBe('RATE_LIMITED');
      const other = createApiClient(server.url, (await server.createApiKey()).key);
      const served = await other.call('POST', '/tasks', third);
      expect(served.status).toBe(200);
    } finally {
      for (const upload of slow) upload.close();
    }
    await waitFor(() => stagedBytes() === 0);
    const again = new FormData();
    again.append('message', 'after the others went away');
    again.append('files', new Blob([new Uint8Array(1024)]), 'small.bin');
    expect((await api.call('POST', '/tasks', again)).status).toBe(200);
  });
});
