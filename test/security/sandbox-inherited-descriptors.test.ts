import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiClient, createApiClient } from '../support/api-client.ts';
import { type FakeModel, startFakeModel } from '../support/fake-model.ts';
import { type SpawnedConcierge, spawnConcierge } from '../support/spawn-concierge.ts';
import { runToolTask } from './agent-harness.ts';

// Red team: a server started with descriptors left open by whatever launched it (a supervisor's log,
// a lock file, a pipe) passed them to every sandboxed command, which read a root-only file and wrote a
// root-owned log through them. The server now closes what it inherited before it does anything else.

let fake: FakeModel;
let server: SpawnedConcierge;
let api: ApiClient;
let dir: string;
let secretFile: number;
let logFile: number;

beforeAll(async () => {
  fake = await startFakeModel();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inherited-'));
  fs.writeFileSync(path.join(dir, 'host-only.txt'), 'host-only secret 4242\n', { mode: 0o600 });
  secretFile = fs.openSync(path.join(dir, 'host-only.txt'), 'r');
  logFile = fs.openSync(path.join(dir, 'server.log'), 'a', 0o600);
  server = await spawnConcierge({ llmBaseUrl: fake.url, inheritDescriptors: { 40: secretFile, 41: logFile } });
  api = createApiClient(server.url, (await server.createApiKey()).key);
}, 120_000);

afterAll(async () => {
  await server?.stop();
  await fake?.close();
  fs.closeSync(secretFile);
  fs.closeSync(logFile);
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('descriptors the server inherited', () => {
  it('never reach a sandboxed command, and the server says it closed them', async () => {
    const run = await runToolTask(api, fake, 'inherited-fds', [
      { name: 'run_shell_command', args: { command: 'ls /proc/self/fd; cat /proc/self/fd/40; echo forged >> /proc/self/fd/41; echo done' } },
    ]);
    const output = run.results[0]!.output;
    expect(output).toContain('done');
    expect(output).not.toContain('host-only secret');
    expect(output).not.toMatch(/^40$/m);
    expect(output).not.toMatch(/^41$/m);
    expect(fs.readFileSync(path.join(dir, 'server.log'), 'utf8')).toBe('');
    expect(server.lines.some((line) => line.includes('closed file descriptors inherited') && line.includes('40') && line.includes('41'))).toBe(true);
  });

  it('does not show the server’s working directory to a sandboxed command', async () => {
    const run = await runToolTask(api, fake, 'launcher-env', [{ name: 'run_shell_command', args: { command: "tr '\\0' '\\n' < /proc/1/environ; echo end" } }]);
    expect(run.results[0]!.output).toContain('end');
    expect(run.results[0]!.output).not.toContain(process.cwd());
  });
});
