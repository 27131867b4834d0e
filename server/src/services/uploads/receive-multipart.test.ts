import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { receiveMultipart, type StagedFile } from './receive-multipart.ts';
import { UploadError } from './upload-error.ts';

const MB = 1024 * 1024;

describe('receiveMultipart', () => {
  let server: Server;
  let baseUrl: string;
  let stagingDir: string;
  let lastFiles: StagedFile[] = [];

  beforeAll(async () => {
    stagingDir = mkdtempSync(path.join(tmpdir(), 'staging-test-'));
    server = createServer((request, response) => {
      receiveMultipart(request, { stagingDir, maxFiles: 20, maxFileBytes: 50 * MB, maxFieldBytes: 1024 }).then(
        ({ fields, files }) => {
          lastFiles = files;
          const contents = files.map((file) => ({ ...file, text: file.size < 1000 ? readFileSync(file.path, 'utf8') : null }));
          response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ fields, files: contents }));
        },
        (error: unknown) => {
          const status = error instanceof UploadError ? error.status : 500;
          const code = error instanceof UploadError ? error.code : 'INTERNAL_ERROR';
          response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ code, message: (error as Error).message }));
        },
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });

  afterAll(() => {
    server.close();
    rmSync(stagingDir, { recursive: true, force: true });
  });

  const post = (form: FormData) => fetch(baseUrl, { method: 'POST', body: form });
  const stagedEntries = () => readdirSync(stagingDir).flatMap((dir) => [dir, ...readdirSync(path.join(stagingDir, dir))]);

  it('stages files and collects fields when the body is within limits', async () => {
    const form = new FormData();
    form.append('message', 'hello');
    form.append('files', new Blob(['a,b\n1,2\n'], { type: 'text/csv' }), 'data.csv');
    form.append('files[]', new Blob(['second']), '../../évil name.txt');
    const response = await post(form);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { fields: Record<string, string>; files: Array<StagedFile & { text: string }> };
    expect(body.fields).toEqual({ message: 'hello' });
    expect(body.files.map((file) => [file.name, file.size, file.text, file.mimeType])).toEqual([
      ['data.csv', 8, 'a,b\n1,2\n', 'text/csv'],
      // busboy keeps only the basename of a client path (preservePath is off).
      ['évil name.txt', 6, 'second', 'application/octet-stream'],
    ]);
    for (const file of lastFiles) {
      expect(path.dirname(path.dirname(file.path))).toBe(stagingDir);
      rmSync(path.dirname(file.path), { recursive: true, force: true });
    }
  });

  it('refuses 21 files with 400 VALIDATION_ERROR and keeps nothing', async () => {
    const form = new FormData();
    for (let index = 0; index < 21; index++) form.append('files', new Blob([`file ${index}`]), `f${index}.txt`);
    const response = await post(form);
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ code: 'VALIDATION_ERROR', message: 'Too many files: at most 20 files per request' });
    expect(stagedEntries()).toEqual([]);
  });

  it('refuses a 51 MB file with 413 PAYLOAD_TOO_LARGE and keeps nothing', async () => {
    const form = new FormData();
    form.append('files', new Blob(['small']), 'ok.txt');
    form.append('files', new Blob([new Uint8Array(51 * MB)]), 'big.bin');
    const response = await post(form);
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({ code: 'PAYLOAD_TOO_LARGE', message: 'File "big.bin" is larger than the 50 MB limit per file' });
    expect(stagedEntries()).toEqual([]);
  });

  it('refuses a field over maxFieldBytes with 413', async () => {
    const form = new FormData();
    form.append('message', 'x'.repeat(2000));
    const response = await post(form);
    expect(response.status).toBe(413);
    expect(((await response.json()) as { message: string }).message).toContain('Field "message"');
  });

  it('refuses files sent under another field name', async () => {
    const form = new FormData();
    form.append('attachment', new Blob(['x']), 'x.txt');
    const response = await post(form);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { message: string }).message).toBe('Unexpected file field "attachment": send files as "files"');
    expect(stagedEntries()).toEqual([]);
  });

  it('refuses a malformed body with 400 and keeps nothing', async () => {
    const response = await fetch(baseUrl, {
      method: 'POST',
      headers: { 'content-type': 'multipart/form-data; boundary=XYZ' },
      body: '--XYZ\r\nContent-Disposition: form-data; name="files"; filename="a.txt"\r\n\r\nunterminated',
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { message: string }).message).toMatch(/^Malformed multipart request/);
    expect(existsSync(stagingDir)).toBe(true);
    expect(stagedEntries()).toEqual([]);
  });

  it('refuses a body without a multipart boundary', async () => {
    const response = await fetch(baseUrl, { method: 'POST', headers: { 'content-type': 'multipart/form-data' }, body: 'x' });
    expect(response.status).toBe(400);
    expect(stagedEntries()).toEqual([]);
  });
});
