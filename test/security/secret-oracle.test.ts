import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiClient, createApiClient, request } from '../support/api-client.ts';
import { type FakeModel, startFakeModel } from '../support/fake-model.ts';
import { type SpawnedConcierge, spawnConcierge } from '../support/spawn-concierge.ts';
import { runToolTask } from './agent-harness.ts';

// Red team: the token exchange's secrets (for MCP templates only, never in the sandbox) were still
// watched for in what the visitor's shell wrote. A download held back a padded guess of a secret's start
// and sent it as [REDACTED] only when the guess was right, and an output cap hid a right guess at the
// cut: an oracle that gave a 24-character secret away in 24 follow-ups. A right guess and a wrong one
// must now look the same.

const ORIGIN = 'http://widget.oracle.test';
const MAX_OUTPUT_BYTES = 4096;
const OWNER_SECRET = 'Crm7kQ2vX9pL4wZ8sT3nB6yH';

let fake: FakeModel;
let server: SpawnedConcierge;
let visitor: ApiClient;

beforeAll(async () => {
  fake = await startFakeModel();
  server = await spawnConcierge({ llmBaseUrl: fake.url });
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'oracle-'));
  const projectFile = path.join(dir, 'projects.json');
  await fs.writeFile(projectFile, JSON.stringify({ projects: { default: { sandbox: { maxOutputBytes: MAX_OUTPUT_BYTES } } } }));
  expect((await server.cli(['projects', 'apply', projectFile])).code).toBe(0);
  await fs.rm(dir, { recursive: true, force: true });
  const created = await server.cli(['apps', 'create', '--project', 'default', '--name', 'oracle', '--origin', ORIGIN, '--json']);
  const app = JSON.parse(created.stdout) as { appId: string; appSecret: string };
  // The site owner's backend: the secret is for its MCP templates.
  const exchange = await request(`${server.url}/api/v1/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ appId: app.appId, appSecret: app.appSecret, endUserId: 'oracle-visitor', secrets: { CRM_TOKEN: OWNER_SECRET } }),
  });
  expect(exchange.status).toBe(200);
  visitor = createApiClient(server.url, exchange.body.data.token as string);
  Object.assign(visitor.auth, { origin: ORIGIN });
}, 120_000);

afterAll(async () => {
  await server?.stop();
  await fake?.close();
});

const hex = (text: string) => Buffer.from(text).toString('hex');

describe('guesses of a secret the visitor must not have', () => {
  it('come back from a download exactly as written, right or wrong', async () => {
    const right = hex(OWNER_SECRET).slice(0, 6);
    const wrong = 'ffffff';
    const padding = 140_000;
    const run = await runToolTask(visitor, fake, 'oracle-download', [
      {
        name: 'run_shell_command',
        args: { command: `for g in ${right} ${wrong}; do printf '#%s' "$g"; head -c ${padding} /dev/zero | tr '\\0' ' '; done > downloads/probe.txt; echo written` },
      },
    ]);
    expect(run.results[0]!.output).toContain('written');
    const download = await fetch(visitor.api(`/tasks/${run.taskId}/artifacts/download?path=downloads/probe.txt`), { headers: visitor.auth });
    expect(download.status).toBe(200);
    const body = await download.text();
    expect(body).toBe(`#${right}${' '.repeat(padding)}#${wrong}${' '.repeat(padding)}`);
  });

  it('are not hidden at an output cap, right or wrong', async () => {
    const guesses = [OWNER_SECRET.slice(0, 8), hex(OWNER_SECRET).slice(0, 8), 'zzzzzzzz'];
    const run = await runToolTask(
      visitor,
      fake,
      'oracle-cut',
      guesses.map((guess) => ({ name: 'run_shell_command' as const, args: { command: `head -c ${MAX_OUTPUT_BYTES - 8} /dev/zero | tr '\\0' x; printf '${guess}'; echo tail-beyond-the-cap` } })),
    );
    for (const [index, guess] of guesses.entries()) {
      expect(run.results[index]!.output, guess).toContain(`x${guess}`);
      expect(run.results[index]!.output, guess).not.toContain('[REDACTED]');
    }
  });

  it('still hide the whole secret, should it ever appear', async () => {
    const run = await runToolTask(visitor, fake, 'oracle-whole', [{ name: 'run_shell_command', args: { command: `echo ${OWNER_SECRET}` } }]);
    expect(run.results[0]!.output).toContain('[REDACTED]');
    expect(run.results[0]!.output).not.toContain(OWNER_SECRET);
  });
});
