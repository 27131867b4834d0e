import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildZip } from '../../server/src/testing/build-zip.ts';
import { type ApiClient, createApiClient } from '../support/api-client.ts';
import { type FakeModel, startFakeModel } from '../support/fake-model.ts';
import { type SpawnedConcierge, spawnConcierge } from '../support/spawn-concierge.ts';
import { waitFor } from '../support/wait-for.ts';
import { expectServerStillWorks, newMarker, runToolTask, scriptedReply } from './agent-harness.ts';

// The server reads and lists task workspaces as root while the visitor's shell changes them. These
// attacks race the server's checks against a command that swaps files for links, or leave FIFOs and odd
// names for it to trip on. Not one host byte may come back, and the server must keep serving.

const ROUNDS = 300;
const SAFE = 'safe\n';

let fake: FakeModel;
let server: SpawnedConcierge;
let api: ApiClient;
let small: ApiClient;
let jwtSecret: string;

const shell = (command: string) => ({ name: 'run_shell_command' as const, args: { command } });

beforeAll(async () => {
  fake = await startFakeModel();
  server = await spawnConcierge({ llmBaseUrl: fake.url, env: { LOG_LEVEL: 'info' } });
  const projectFile = `${server.dataDir}.projects.json`;
  await fs.writeFile(
    projectFile,
    JSON.stringify({
      projects: {
        default: { sandbox: { commandTimeoutMs: 120_000 } },
        small: { sandbox: { workspaceQuotaMb: 1, commandTimeoutMs: 10_000 } },
      },
    }),
  );
  try {
    const applied = await server.cli(['projects', 'apply', projectFile]);
    if (applied.code !== 0) throw new Error(`projects apply failed: ${applied.stderr}`);
  } finally {
    await fs.rm(projectFile, { force: true });
  }
  api = createApiClient(server.url, (await server.createApiKey()).key);
  small = createApiClient(server.url, (await server.createApiKey('small')).key);
  jwtSecret = readFileSync(path.join(server.dataDir, 'jwt-secret'), 'utf8');
}, 120_000);

afterAll(async () => {
  await server?.stop();
  await fake?.close();
});

const workspaceOf = (taskId: string) => path.join(server.dataDir, 'workspaces', taskId);

async function download(client: ApiClient, taskId: string, file: string): Promise<{ status: number; text: string }> {
  const response = await fetch(client.api(`/tasks/${taskId}/artifacts/download?path=${encodeURIComponent(file)}`), { headers: client.auth });
  return { status: response.status, text: await response.text() };
}

/** Starts a task whose one shell command runs `command` until the test drops `downloads/stop`. */
async function startLongCommand(name: string, command: string): Promise<string> {
  const marker = newMarker(name);
  fake.scenario(marker, scriptedReply([shell(command)], 'Stopped.'));
  const taskId = await api.createTask({ message: `Run it ${marker}` });
  return taskId;
}

async function stopLongCommand(taskId: string): Promise<void> {
  await fs.writeFile(path.join(workspaceOf(taskId), 'downloads', 'stop'), '');
  const task = await api.waitForStatus(taskId, ['completed', 'failed'], 60_000);
  expect(task.status).toBe('completed');
}

describe('artifact download and listing against a workspace swapped under them', () => {
  it('never serves host bytes while a command swaps files and folders for links to them', async () => {
    const secretFile = path.join(server.dataDir, 'jwt-secret');
    // Two swappers: downloads/f flips between a regular file and a link to /etc/shadow or the signing secret;
    // downloads/sub flips between a folder and a link to /etc. rename(2) makes each flip atomic.
    const taskId = await startLongCommand(
      'swap',
      [
        'cd /workspace/downloads && printf "safe\\n" > real && mkdir -p subreal && printf "safe\\n" > subreal/shadow',
        `(i=0; while [ $i -lt 400000 ] && [ ! -e stop ]; do ln -sfn /etc/shadow l1; mv -T l1 f; cp real t; mv -T t f; ln -sfn ${secretFile} l2; mv -T l2 f; cp real t; mv -T t f; i=$((i+1)); done) &`,
        '(i=0; while [ $i -lt 400000 ] && [ ! -e stop ]; do ln -sfn /etc l3; mv -T l3 sub; ln -sfn subreal l4; mv -T l4 sub; mv -T subreal sub 2>/dev/null; mkdir -p subreal; printf "safe\\n" > subreal/shadow; i=$((i+1)); done) &',
        'wait',
      ].join('\n'),
    );
    await waitFor('the swapper to start', async () => (await download(api, taskId, 'downloads/real')).status === 200, 30_000);
    const statuses = new Map<number, number>();
    try {
      for (let round = 0; round < ROUNDS; round++) {
        for (const file of ['downloads/f', 'downloads/sub/shadow']) {
          const { status, text } = await download(api, taskId, file);
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          expect([200, 404]).toContain(status);
          if (status === 200) expect(text).toBe(SAFE);
          expect(text).not.toContain('root:');
          expect(text).not.toContain(jwtSecret.trim());
        }
        if (round % 10 === 0) {
          const listing = await api.call('GET', `/tasks/${taskId}/artifacts`);
          expect(listing.status).toBe(200);
          for (const file of listing.body.data.files as Array<{ path: string; size: number }>) {
            // Mid-copy a file may be empty; it is never the size of a host file.
            if (file.path === 'downloads/f' || file.path.endsWith('/shadow')) expect(file.size).toBeLessThanOrEqual(SAFE.length);
          }
        }
      }
    } finally {
      await stopLongCommand(taskId);
    }
    // The race really ran: both regular files and links were met.
    expect(statuses.get(200)).toBeGreaterThan(0);
    expect(statuses.get(404)).toBeGreaterThan(0);
  }, 240_000);

  it('lists names that are not UTF-8 and files that vanish mid-walk without a 5xx', async () => {
    const taskId = await startLongCommand(
      'churn',
      [
        'cd /workspace/downloads && printf odd > "$(printf "\\377\\376.txt")"',
        'i=0; while [ $i -lt 400000 ] && [ ! -e stop ]; do mkdir -p c/d/e; touch c/d/e/x c/d/y; rm -rf c; i=$((i+1)); done',
      ].join('\n'),
    );
    try {
      await waitFor('the churn to start', async () => ((await api.call('GET', `/tasks/${taskId}/artifacts`)).body.data?.files ?? []).length > 0, 30_000);
      for (let round = 0; round < 100; round++) {
        const listing = await api.call('GET', `/tasks/${taskId}/artifacts`);
        expect(listing.status).toBe(200);
        expect(listing.body.data.files).toContainEqual(expect.objectContaining({ path: 'downloads/\uFFFD\uFFFD.txt', size: 3 }));
      }
      for (const odd of ['downloads/\uFFFD\uFFFD.txt', 'downloads/%FF%FE.txt']) expect((await download(api, taskId, odd)).status).toBe(404);
      const raw = await fetch(`${api.api(`/tasks/${taskId}/artifacts/download`)}?path=downloads/%FF%FE.txt`, { headers: api.auth });
      expect(raw.status).toBe(404);
    } finally {
      await stopLongCommand(taskId);
    }
  }, 120_000);
});

describe('FIFOs and devices in the workspace', () => {
  it('refuses read_file on a FIFO in four tasks at once, and the server keeps answering', async () => {
    const runs = await Promise.all(
      [1, 2, 3, 4, 5].map((n) =>
        runToolTask(api, fake, `fifo-${n}`, [
          shell('mkfifo downloads/p && ln -s /dev/zero downloads/z'),
          { name: 'read_file', args: { path: 'downloads/p' } },
          { name: 'write_file', args: { path: 'downloads/p', content: 'x' } },
          { name: 'read_file', args: { path: 'downloads/z' } },
        ]),
      ),
    );
    for (const run of runs) {
      expect(run.task.status).toBe('completed');
      expect(run.results.slice(1).map((result) => [result.status, result.output])).toEqual([
        ['error', '"downloads/p" is not a regular file (a FIFO, socket or device); it cannot be read.'],
        ['error', '"downloads/p" is not a regular file (a FIFO, socket or device).'],
        ['error', '"downloads/z" goes through a symbolic link, which file tools do not follow.'],
      ]);
      expect((await download(api, run.taskId, 'downloads/p')).status).toBe(404);
      const listing = await api.call('GET', `/tasks/${run.taskId}/artifacts`);
      expect(listing.status).toBe(200);
      expect(listing.body.data.files).toEqual([]);
    }
    await expectServerStillWorks(server.url, api, fake);
  }, 120_000);
});

describe('the workspace budget for file tools and uploads', () => {
  it('refuses write_file and uploads past the quota, and an archive that would inflate past it', async () => {
    const marker = newMarker('quota');
    fake.scenario(
      marker,
      scriptedReply([
        { name: 'write_file', args: { path: 'downloads/a.txt', content: 'a'.repeat(700 * 1024) } },
        { name: 'write_file', args: { path: 'downloads/b.txt', content: 'b'.repeat(700 * 1024) } },
      ]),
    );
    const taskId = await small.createTask({ message: `Write twice ${marker}` });
    const task = await small.waitForStatus(taskId, ['completed', 'failed'], 30_000);
    expect(task.status).toBe('completed');
    const events = await small.stream(taskId, { query: '?after=0' });
    const results = events.filter((event) => event.event === 'tool_result').map((event) => event.data as { status: string; output: string });
    expect(results[0]).toMatchObject({ status: 'success' });
    expect(results[1]?.status).toBe('error');
    expect(results[1]?.output).toMatch(/^The workspace uses 0\.\d MB of its 1\.0 MB quota; 0\.7 MB more do not fit\. Delete files before writing more\.$/);
    await expect(fs.stat(path.join(workspaceOf(taskId), 'downloads', 'b.txt'))).rejects.toThrow();

    const upload = (files: Array<{ name: string; data: Buffer }>) => {
      const body = new FormData();
      body.append('message', 'Here you go');
      for (const file of files) body.append('files', new Blob([new Uint8Array(file.data)]), file.name);
      return fetch(small.api(`/tasks/${taskId}/messages`), { method: 'POST', headers: small.auth, body });
    };
    const tooBig = await upload([{ name: 'big.bin', data: Buffer.alloc(600 * 1024, 7) }]);
    expect(tooBig.status).toBe(413);
    expect(await tooBig.json()).toMatchObject({ success: false, error: { code: 'PAYLOAD_TOO_LARGE' } });
    const inflating = await upload([{ name: 'bomb.zip', data: await buildZip([{ name: 'zeros.bin', data: Buffer.alloc(2 * 1024 * 1024) }]) }]);
    expect(inflating.status).toBe(400);
    expect(await inflating.json()).toMatchObject({ success: false, error: { code: 'VALIDATION_ERROR', message: expect.stringContaining('bomb.zip') } });
    expect(await fs.readdir(path.join(workspaceOf(taskId), 'uploads'))).toEqual([]);
  }, 60_000);
});
