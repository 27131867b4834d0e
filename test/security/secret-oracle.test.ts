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
// cut: an oracle that gave a 24-character secret away in 24 follow-ups; then held-back prefixes in the
// streamed reply, and [REDACTED] at the place of the right one of many printed candidates. A right guess
// and a wrong one must look the same everywhere the visitor looks.

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

  it('are shown as typed among many candidates, so no [REDACTED] marks the right one', async () => {
    // Red team: every 6-digit PIN printed in one line showed [REDACTED] exactly where the secret was.
    const candidates = ['Crm7kQ2vX9pL4wZ8sT3nB6yA', OWNER_SECRET, 'Crm7kQ2vX9pL4wZ8sT3nB6yZ'];
    const run = await runToolTask(visitor, fake, 'oracle-whole', [{ name: 'run_shell_command', args: { command: `echo ${candidates.join(' ')}` } }]);
    expect(run.results[0]!.output).toContain(candidates.join(' '));
    expect(run.results[0]!.output).not.toContain('[REDACTED]');
    const call = (await visitor.call('GET', `/tasks/${run.taskId}/history`)).body.data.messages.at(-1).toolCalls[0];
    expect(call.args.command).toBe(`echo ${candidates.join(' ')}`);
  });

  it('stream in the reply exactly as a wrong guess does, with nothing held back', async () => {
    // Red team: a right guess of the secret's start, echoed by the model, was held back and sent glued
    // to the next chunk; a wrong one went out alone.
    const echo = async (name: string, guess: string) => {
      const marker = `${name}-${Math.random().toString(36).slice(2)}`;
      fake.scenario(marker, () => ({ text: ['Echo: #', guess, ' and the rest.'], delayMs: 40 }));
      const id = await visitor.createTask({ message: `say it ${marker}` });
      const events = await visitor.stream(id, { timeoutMs: 30_000 });
      return events.filter((event) => event.event === 'content' && (event.data as { isPartial: boolean }).isPartial).map((event) => (event.data as { text: string }).text);
    };
    const right = await echo('right', OWNER_SECRET.slice(0, 10));
    const wrong = await echo('wrong', 'Zq0123456x');
    expect(right).toEqual(['Echo: #', OWNER_SECRET.slice(0, 10), ' and the rest.']);
    expect(wrong).toEqual(['Echo: #', 'Zq0123456x', ' and the rest.']);
  });

  it('come back in error messages as sent, whoever asks and whatever secrets are live', async () => {
    // Red team: error messages repeat the caller's input and were redacted against every live secret of
    // every tenant, so one unauthenticated request could test a thousand guesses.
    const owner = createApiClient(server.url, (await server.createApiKey()).key);
    const live = 'AC12345678live';
    const id = await owner.createTask({ message: 'hello', secrets: { ACCOUNT: live } });
    await owner.waitForStatus(id, 'completed');
    const stranger = createApiClient(server.url, (await server.createApiKey('other')).key);
    for (const answer of [await stranger.call('GET', `/tasks/${live}`), await request(`${server.url}/api/v1/tasks/${live}/history`)]) {
      expect(answer.status).toBeGreaterThanOrEqual(400);
      expect(JSON.stringify(answer.body)).not.toContain('[REDACTED]');
    }
    expect((await stranger.call('GET', `/tasks/${live}`)).body.error.message).toContain(live);
  });
});
