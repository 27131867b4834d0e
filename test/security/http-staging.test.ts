import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiClient, createApiClient } from '../support/api-client.ts';
import { createGate, type FakeModel, startFakeModel } from '../support/fake-model.ts';
import { type SpawnedConcierge, spawnConcierge } from '../support/spawn-concierge.ts';
import { newMarker } from './agent-harness.ts';

// Refused multipart requests against a real server process leave nothing in the staging dir, and a
// follow-up that cannot be accepted (busy task, foreign task) is refused before its body is staged.

let fake: FakeModel;
let server: SpawnedConcierge;
let api: ApiClient;
let apiKey: string;

beforeAll(async () => {
  fake = await startFakeModel();
  server = await spawnConcierge({ llmBaseUrl: fake.url, env: { LOG_LEVEL: 'info' } });
  apiKey = (await server.createApiKey()).key;
  api = createApiClient(server.url, apiKey);
});

afterAll(async () => {
  await server?.stop();
  await fake?.close();
});

async function staged(): Promise<string[]> {
  const dir = path.join(server.dataDir, 'staging');
  // The server removes staged folders while this walks them: a walk that meets one vanishing reads again.
  for (let attempt = 0; ; attempt++) {
    try {
      return existsSync(dir) ? ((await fs.readdir(dir, { recursive: true, encoding: 'utf8' })) as string[]) : [];
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 20) throw error;
    }
  }
}

function form(fields: Record<string, string>, size = 256 * 1024): FormData {
  const body = new FormData();
  for (const [name, value] of Object.entries(fields)) body.append(name, value);
  body.append('files', new Blob([new Uint8Array(size)]), 'data.bin');
  return body;
}

describe('staged uploads after refused requests', () => {
  it('leaves nothing staged after a bad field or a missing message on task creation', async () => {
    const badField = await api.call('POST', '/tasks', form({ message: 'hi', autoExecute: 'maybe' }));
    expect(badField.status).toBe(400);
    const noMessage = await api.call('POST', '/tasks', form({}));
    expect(noMessage.status).toBe(400);
    expect(await staged()).toEqual([]);
  });

  it('refuses a follow-up to a busy task or a foreign task with nothing staged', async () => {
    const marker = newMarker('busy');
    const gate = createGate();
    fake.scenario(marker, async () => {
      await gate.promise;
      return { text: 'done' };
    });
    const taskId = await api.createTask({ message: `hold ${marker}` });
    try {
      const busy = await api.call('POST', `/tasks/${taskId}/messages`, form({ message: 'more' }));
      expect(busy.status).toBe(409);
      expect(busy.body.error.code).toBe('TASK_BUSY');
      const other = createApiClient(server.url, (await server.createApiKey('elsewhere')).key);
      const foreign = await other.call('POST', `/tasks/${taskId}/messages`, form({ message: 'mine now' }));
      expect(foreign.status).toBe(404);
      const unauthenticated = await api.call('POST', `/tasks/${taskId}/messages`, form({ message: 'x' }), { authorization: `Bearer ck_${'0'.repeat(64)}` });
      expect(unauthenticated.status).toBe(401);
      expect(await staged()).toEqual([]);
    } finally {
      gate.open();
    }
  });

  it('removes the staged part of an upload the client abandons midway', async () => {
    const { port } = new URL(server.url);
    const socket = net.connect(Number(port), '127.0.0.1');
    socket.on('error', () => {});
    await new Promise((resolve) => socket.once('connect', resolve));
    const boundary = 'xxBOUNDARYxx';
    socket.write(
      [
        'POST /api/v1/tasks HTTP/1.1',
        'Host: 127.0.0.1',
        `Authorization: Bearer ${apiKey}`,
        `Content-Type: multipart/form-data; boundary=${boundary}`,
        'Content-Length: 10000000',
        '',
        `--${boundary}`,
        'Content-Disposition: form-data; name="files"; filename="big.bin"',
        'Content-Type: application/octet-stream',
        '',
        'x'.repeat(512 * 1024),
      ].join('\r\n'),
    );
    let seen = false;
    for (let attempt = 0; attempt < 100 && !seen; attempt++) {
      seen = (await staged()).some((entry) => entry.includes(path.sep));
      if (!seen) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(seen).toBe(true);
    socket.destroy();
    let left = await staged();
    for (let attempt = 0; attempt < 100 && left.length > 0; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      left = await staged();
    }
    expect(left).toEqual([]);
  });
});
