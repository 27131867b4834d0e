import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildZip as zipBuffer, lieAboutZipSizes as lieAboutSizes, renameZipEntry as renameEntry } from '../../server/src/testing/build-zip.ts';
import { type ApiClient, createApiClient } from '../support/api-client.ts';
import { type FakeModel, messageText, startFakeModel } from '../support/fake-model.ts';
import { type SpawnedConcierge, spawnConcierge } from '../support/spawn-concierge.ts';
import { newMarker } from './agent-harness.ts';

// Multipart uploads over real HTTP into a real server process: limits, hostile names and hostile archives
// are refused cleanly, leaving no task, no file outside a workspace and nothing in staging.

/** Every file and folder under `dir`, relative, sorted. */
async function tree(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  return ((await fs.readdir(dir, { recursive: true, encoding: 'utf8' })) as string[]).sort();
}

function form(message: string, files: Array<{ name: string; data: Buffer | string; type?: string }>): FormData {
  const body = new FormData();
  body.append('message', message);
  for (const file of files) {
    const part = typeof file.data === 'string' ? file.data : new Uint8Array(file.data);
    body.append('files', new Blob([part], { type: file.type ?? 'application/octet-stream' }), file.name);
  }
  return body;
}

let fake: FakeModel;
let server: SpawnedConcierge;
let api: ApiClient;
let marker: string;

beforeAll(async () => {
  fake = await startFakeModel();
  server = await spawnConcierge({ llmBaseUrl: fake.url, env: { LOG_LEVEL: 'info' } });
  api = createApiClient(server.url, (await server.createApiKey()).key);
  marker = newMarker('uploads');
  fake.scenario(marker, () => ({ text: 'I have your files.' }));
});

afterAll(async () => {
  await server?.stop();
  await fake?.close();
});

async function taskCount(): Promise<number> {
  const response = await api.call('GET', '/tasks?limit=1');
  expect(response.status).toBe(200);
  return response.body.pagination.total as number;
}

/** The data dir's files outside the database (whose pages change with every request). */
async function dataDirTree(): Promise<string[]> {
  return (await tree(server.dataDir)).filter((entry) => !/^concierge\.db(-wal|-shm)?$/.test(entry));
}

/** Sends `body` to create a task and expects a clean refusal: status, code, message, no task, no new file anywhere. */
async function expectRefusedCreate(body: FormData, status: number, code: string, message: string | RegExp): Promise<void> {
  const tasksBefore = await taskCount();
  const filesBefore = await dataDirTree();
  const response = await api.call('POST', '/tasks', body);
  expect(response.status).toBe(status);
  expect(response.body.success).toBe(false);
  expect(response.body.error.code).toBe(code);
  if (typeof message === 'string') expect(response.body.error.message).toBe(message);
  else expect(response.body.error.message).toMatch(message);
  expect(await taskCount()).toBe(tasksBefore);
  expect(await dataDirTree()).toEqual(filesBefore);
  expect(await tree(path.join(server.dataDir, 'staging'))).toEqual([]);
}

describe('multipart uploads on POST /api/v1/tasks', () => {
  it('answers 400 VALIDATION_ERROR and creates no task when 21 files are sent', async () => {
    const files = Array.from({ length: 21 }, (_, index) => ({ name: `file-${index}.txt`, data: `file ${index}` }));
    await expectRefusedCreate(form(`too many ${marker}`, files), 400, 'VALIDATION_ERROR', 'Too many files: at most 20 files per request');
  });

  it('answers 413 PAYLOAD_TOO_LARGE and keeps nothing when one file is 51 MB', async () => {
    const big = Buffer.alloc(51 * 1024 * 1024, 'a');
    await expectRefusedCreate(
      form(`too big ${marker}`, [{ name: 'small.txt', data: 'fine' }, { name: 'big.bin', data: big }]),
      413,
      'PAYLOAD_TOO_LARGE',
      'File "big.bin" is larger than the 50 MB limit per file',
    );
  });

  it('stores traversal and hidden names as plain files under uploads/ when the client sends ../../x', async () => {
    const filesBefore = await dataDirTree();
    const body = form(`names ${marker}`, [
      { name: '../../x', data: 'one' },
      { name: '..\\..\\y.txt', data: 'two' },
      { name: '/etc/z.txt', data: 'three' },
      { name: '.bashrc', data: 'four' },
      { name: '../../x', data: 'five' },
    ]);
    const id = await api.createTask(body);
    await api.waitForStatus(id, 'completed');

    const artifacts = await api.call('GET', `/tasks/${id}/artifacts`);
    const listed = (artifacts.body.data.files as Array<{ path: string; size: number }>).map((file) => [file.path, file.size]);
    expect(listed).toEqual([
      ['uploads/_bashrc', 4],
      ['uploads/x', 3],
      ['uploads/x (1)', 4],
      ['uploads/y.txt', 3],
      ['uploads/z.txt', 5],
    ]);
    const history = await api.call('GET', `/tasks/${id}/history`);
    expect(history.body.data.messages[0].attachedFiles).toEqual([
      { name: 'x', path: 'uploads/x' },
      { name: 'y.txt', path: 'uploads/y.txt' },
      { name: 'z.txt', path: 'uploads/z.txt' },
      { name: '_bashrc', path: 'uploads/_bashrc' },
      { name: 'x (1)', path: 'uploads/x (1)' },
    ]);
    // Only the new task's workspace appeared; nothing landed beside it, in the data dir or on the host.
    const workspace = `workspaces/${id}`;
    const added = (await dataDirTree()).filter((entry) => !filesBefore.includes(entry));
    expect(added.every((entry) => entry === workspace || entry.startsWith(`${workspace}/`))).toBe(true);
    expect(added).toContain(`${workspace}/uploads/x`);
    for (const escaped of [path.join(server.dataDir, 'x'), path.join(server.dataDir, 'workspaces', 'x'), path.join(server.dataDir, 'y.txt'), '/etc/z.txt']) {
      expect(existsSync(escaped)).toBe(false);
    }
  });

  it('refuses a zip-slip archive with 400 and leaves nothing when an entry climbs out with ../', async () => {
    const name = `escape-${randomBytes(4).toString('hex')}.txt`;
    const slip = renameEntry(await zipBuffer([{ name: 'fine.txt' }, { name: `AA/AA/AA/${name}` }]), 'AA/AA/AA/', '../../../');
    await expectRefusedCreate(
      form(`slip ${marker}`, [{ name: 'notes.txt', data: 'kept only if all is fine' }, { name: 'slip.zip', data: slip }]),
      400,
      'VALIDATION_ERROR',
      `The archive "slip.zip" was refused: invalid relative path: ../../../${name}. Nothing from it was kept.`,
    );
    for (const dir of [server.dataDir, path.join(server.dataDir, 'workspaces'), os.tmpdir(), path.dirname(server.dataDir)]) {
      expect(existsSync(path.join(dir, name))).toBe(false);
    }
  });

  it('refuses a zip-slip archive with 400 when an entry has an absolute path', async () => {
    const name = `escape-${randomBytes(4).toString('hex')}`;
    const absolute = renameEntry(await zipBuffer([{ name: `Xtmp/${name}` }]), `Xtmp/${name}`, `/tmp/${name}`);
    await expectRefusedCreate(
      form(`absolute ${marker}`, [{ name: 'absolute.zip', data: absolute }]),
      400,
      'VALIDATION_ERROR',
      `The archive "absolute.zip" was refused: absolute path: /tmp/${name}. Nothing from it was kept.`,
    );
    expect(existsSync(`/tmp/${name}`)).toBe(false);
  });

  it('refuses a zip bomb with 400 when it inflates past 200 MB', async () => {
    const bomb = await zipBuffer([{ name: 'zeros.bin', data: Buffer.alloc(201 * 1024 * 1024) }]);
    expect(bomb.length).toBeLessThan(1024 * 1024);
    await expectRefusedCreate(
      form(`bomb ${marker}`, [{ name: 'bomb.zip', data: bomb }]),
      400,
      'VALIDATION_ERROR',
      'The archive "bomb.zip" was refused: it expands to more than 200 MB. Nothing from it was kept.',
    );
    // Headers that understate the size do not get it through either.
    await expectRefusedCreate(
      form(`liar ${marker}`, [{ name: 'liar.zip', data: lieAboutSizes(bomb, 100) }]),
      400,
      'VALIDATION_ERROR',
      /^The archive "liar\.zip" was refused: .+\. Nothing from it was kept\.$/,
    );
  }, 30_000);

  it('refuses an archive with 400 when it holds more than 1000 entries', async () => {
    const many = await zipBuffer(Array.from({ length: 1001 }, (_, index) => ({ name: `f${index}.txt`, data: Buffer.from('x') })), false);
    await expectRefusedCreate(
      form(`many ${marker}`, [{ name: 'many.zip', data: many }]),
      400,
      'VALIDATION_ERROR',
      'The archive "many.zip" was refused: it has 1001 entries, more than the 1000 allowed. Nothing from it was kept.',
    );
  });

  it('refuses an archive with 400 when it contains a symbolic link', async () => {
    const links = await zipBuffer([{ name: 'readme.txt' }, { name: 'passwd', data: Buffer.from('/etc/passwd'), mode: 0o120777 }]);
    await expectRefusedCreate(
      form(`links ${marker}`, [{ name: 'links.zip', data: links }]),
      400,
      'VALIDATION_ERROR',
      'The archive "links.zip" was refused: it contains a symbolic link ("passwd"). Nothing from it was kept.',
    );
  });

  it('extracts a normal archive keeping its folders and lists the files on the user message when the task is created', async () => {
    const zip = await zipBuffer([
      { name: 'report/readme.txt', data: Buffer.from('read me') },
      { name: 'report/data/sales.csv', data: Buffer.from('region,total\neu,42\n') },
    ]);
    const id = await api.createTask(form(`normal ${marker}`, [{ name: 'bundle.zip', data: zip }, { name: 'notes.txt', data: 'plain' }]));
    const task = await api.waitForStatus(id, 'completed');
    expect(task.output?.content).toBe('I have your files.');

    const attached = [
      { name: 'readme.txt', path: 'uploads/bundle/report/readme.txt' },
      { name: 'sales.csv', path: 'uploads/bundle/report/data/sales.csv' },
      { name: 'notes.txt', path: 'uploads/notes.txt' },
    ];
    const history = await api.call('GET', `/tasks/${id}/history`);
    expect(history.body.data.messages[0]).toMatchObject({ role: 'user', content: `normal ${marker}`, attachedFiles: attached });
    const workspace = path.join(server.dataDir, 'workspaces', id);
    expect(await fs.readFile(path.join(workspace, 'uploads/bundle/report/data/sales.csv'), 'utf8')).toBe('region,total\neu,42\n');
    const artifacts = await api.call('GET', `/tasks/${id}/artifacts`);
    expect((artifacts.body.data.files as Array<{ path: string }>).map((file) => file.path)).toEqual([
      'uploads/bundle/report/data/sales.csv',
      'uploads/bundle/report/readme.txt',
      'uploads/notes.txt',
    ]);
    // The agent is told where the files are, before the user's own words.
    const firstRequest = fake.requestsFor(`normal ${marker}`)[0];
    expect(messageText(firstRequest?.messages.find((message) => message.role === 'user'))).toBe(
      `The user attached these files in the workspace:\n${attached.map((file) => `- ${file.path}`).join('\n')}\n\nnormal ${marker}`,
    );
  });
});

describe('multipart uploads on POST /api/v1/tasks/{id}/messages', () => {
  it('places follow-up files beside the first ones and lists them on the new user message when a follow-up carries files', async () => {
    const id = await api.createTask(form(`follow ${marker}`, [{ name: 'first.txt', data: 'one' }]));
    await api.waitForStatus(id, 'completed');
    const zip = await zipBuffer([{ name: 'more/second.txt', data: Buffer.from('two') }]);
    const response = await api.call('POST', `/tasks/${id}/messages`, form('and these', [{ name: 'more.zip', data: zip }, { name: 'first.txt', data: 'again' }]));
    expect(response.status).toBe(200);
    await api.waitForStatus(id, 'completed');

    const history = await api.call('GET', `/tasks/${id}/history`);
    const users = (history.body.data.messages as Array<{ role: string; attachedFiles?: unknown }>).filter((message) => message.role === 'user');
    expect(users.map((message) => message.attachedFiles)).toEqual([
      [{ name: 'first.txt', path: 'uploads/first.txt' }],
      [
        { name: 'second.txt', path: 'uploads/more/more/second.txt' },
        { name: 'first (1).txt', path: 'uploads/first (1).txt' },
      ],
    ]);
    const workspace = path.join(server.dataDir, 'workspaces', id);
    expect(await fs.readFile(path.join(workspace, 'uploads/first.txt'), 'utf8')).toBe('one');
    expect(await fs.readFile(path.join(workspace, 'uploads/first (1).txt'), 'utf8')).toBe('again');
  });

  it('refuses hostile follow-up archives with 400 and leaves the task and its workspace as they were', async () => {
    const id = await api.createTask(form(`follow-refused ${marker}`, [{ name: 'first.txt', data: 'one' }]));
    await api.waitForStatus(id, 'completed');
    const workspace = path.join(server.dataDir, 'workspaces', id);
    const workspaceBefore = await tree(workspace);
    const historyBefore = (await api.call('GET', `/tasks/${id}/history`)).body.data.messages;
    const slip = renameEntry(await zipBuffer([{ name: 'AA/AA/slip.txt' }]), 'AA/AA/', '../../');
    const links = await zipBuffer([{ name: 'root', data: Buffer.from('/'), mode: 0o120777 }]);
    const cases: Array<[FormData, number, string, string]> = [
      [form('slip', [{ name: 'ok.txt', data: 'ok' }, { name: 'slip.zip', data: slip }]), 400, 'VALIDATION_ERROR', 'The archive "slip.zip" was refused: invalid relative path: ../../slip.txt. Nothing from it was kept.'],
      [form('links', [{ name: 'links.zip', data: links }]), 400, 'VALIDATION_ERROR', 'The archive "links.zip" was refused: it contains a symbolic link ("root"). Nothing from it was kept.'],
      [form('many', Array.from({ length: 21 }, (_, index) => ({ name: `f${index}`, data: 'x' }))), 400, 'VALIDATION_ERROR', 'Too many files: at most 20 files per request'],
    ];
    for (const [body, status, code, message] of cases) {
      const response = await api.call('POST', `/tasks/${id}/messages`, body);
      expect(response.status).toBe(status);
      expect(response.body.error.code).toBe(code);
      expect(response.body.error.message).toBe(message);
    }
    expect(await tree(workspace)).toEqual(workspaceBefore);
    expect(await tree(path.join(server.dataDir, 'staging'))).toEqual([]);
    const task = await api.getTask(id);
    expect(task.status).toBe('completed');
    expect((await api.call('GET', `/tasks/${id}/history`)).body.data.messages).toEqual(historyBefore);
  });
});
