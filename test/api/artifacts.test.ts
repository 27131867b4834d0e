import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiClient, createApiClient, request } from '../support/api-client.ts';
import { type FakeModel, startFakeModel } from '../support/fake-model.ts';
import { type SpawnedConcierge, spawnConcierge } from '../support/spawn-concierge.ts';

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const CSV = 'region,total\neu,42\nus,7\n';

let fake: FakeModel;
let server: SpawnedConcierge;
let api: ApiClient;
let taskId: string;

beforeAll(async () => {
  fake = await startFakeModel();
  server = await spawnConcierge({ llmBaseUrl: fake.url });
  api = createApiClient(server.url, (await server.createApiKey()).key);
  const form = new FormData();
  form.append('message', 'write a report [artifacts]');
  form.append('files', new Blob([CSV], { type: 'text/csv' }), 'sales.csv');
  taskId = await api.createTask(form);
  await api.waitForStatus(taskId, 'completed');
});

afterAll(async () => {
  await server?.stop();
  await fake?.close();
});

const download = (path: string, client: ApiClient = api) => fetch(client.api(`/tasks/${taskId}/artifacts/download?path=${encodeURIComponent(path)}`), { headers: client.auth });

describe('GET /api/v1/tasks/{id}/artifacts', () => {
  it('lists uploads and the files the agent wrote with their metadata when the task is finished', async () => {
    const response = await api.call('GET', `/tasks/${taskId}/artifacts`);
    expect(response.status).toBe(200);
    const files = response.body.data.files as Array<Record<string, unknown>>;
    expect(response.body.success).toBe(true);
    expect(files).toEqual([
      { name: 'report.md', path: 'downloads/report.md', size: expect.any(Number), mimeType: 'text/markdown', category: 'text', modifiedAt: expect.stringMatching(ISO_MS) },
      { name: 'sales.csv', path: 'uploads/sales.csv', size: Buffer.byteLength(CSV), mimeType: 'text/csv', category: 'csv', modifiedAt: expect.stringMatching(ISO_MS) },
    ]);
    expect(files[0]!.size).toBeGreaterThan(0);
  });

  it('lists no files when the task has not written or received any', async () => {
    const id = await api.createTask({ message: 'hello [artifacts-empty]' });
    await api.waitForStatus(id, 'completed');
    const response = await api.call('GET', `/tasks/${id}/artifacts`);
    expect(response.body).toEqual({ success: true, data: { files: [] } });
  });

  it('answers 404 NOT_FOUND when the task belongs to another project', async () => {
    const other = createApiClient(server.url, (await server.createApiKey('artifacts-other')).key);
    const response = await other.call('GET', `/tasks/${taskId}/artifacts`);
    expect(response.status).toBe(404);
    expect(response.body.error.code).toBe('NOT_FOUND');
    const file = await download('downloads/report.md', other);
    expect(file.status).toBe(404);
  });
});

describe('GET /api/v1/tasks/{id}/artifacts/download', () => {
  it('sends the file with Content-Type, Content-Disposition and Content-Length when the path is listed', async () => {
    const listed = (await api.call('GET', `/tasks/${taskId}/artifacts`)).body.data.files[0];
    const response = await download('downloads/report.md');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/markdown/);
    expect(response.headers.get('content-disposition')).toMatch(/^attachment; filename="report\.md"/);
    const body = Buffer.from(await response.arrayBuffer());
    expect(response.headers.get('content-length')).toBe(String(listed.size));
    expect(body.length).toBe(listed.size);
    expect(body.toString('utf8')).toMatch(/^# /);
  });

  it('sends an uploaded file byte for byte when the path is under uploads/', async () => {
    const response = await download('uploads/sales.csv');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(response.headers.get('content-disposition')).toContain('filename="sales.csv"');
    expect(await response.text()).toBe(CSV);
  });

  it('answers 400 VALIDATION_ERROR when the path query parameter is missing', async () => {
    for (const query of ['', '?path=']) {
      const response = await request(api.api(`/tasks/${taskId}/artifacts/download${query}`), { headers: api.auth });
      expect(response.status).toBe(400);
      expect(response.body).toEqual({ success: false, error: { code: 'VALIDATION_ERROR', message: 'Missing path query parameter' } });
    }
  });

  it('answers 404 NOT_FOUND when the path leaves the workspace', async () => {
    for (const path of ['../../../../etc/passwd', 'downloads/../../secret', '../' + taskId, '/etc/passwd', 'uploads/../../../jwt-secret']) {
      const response = await download(path);
      expect(response.status, path).toBe(404);
      expect(await response.json()).toEqual({ success: false, error: { code: 'NOT_FOUND', message: expect.any(String) } });
    }
  });

  it('answers 404 NOT_FOUND when the file does not exist or is a folder', async () => {
    for (const path of ['downloads/missing.txt', 'downloads', '.']) {
      const response = await download(path);
      expect(response.status, path).toBe(404);
      expect((await response.json()).error.code).toBe('NOT_FOUND');
    }
  });
});
