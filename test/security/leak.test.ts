import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '../../shared/src/index.ts';
import { type ApiClient, createApiClient, request, type StreamedEvent } from '../support/api-client.ts';
import { type FakeChatRequest, type FakeModel, type FakeReply, messageText, startFakeModel } from '../support/fake-model.ts';
import { type SpawnedConcierge, spawnConcierge } from '../support/spawn-concierge.ts';
import { newMarker, type ToolResultData } from './agent-harness.ts';

// A task's secrets reach its sandbox and nowhere else: whatever the shell prints and the model repeats,
// no API answer, SSE event, log line or file outside the task's workspace may carry them.

const ORIGIN = 'http://widget.leak.test';
const FOLLOW_UP = 'Thanks. Anything else?';

/** A random secret of exactly `length` characters (the length decides how its base64 aligns). */
function canary(prefix: string, length: number): string {
  return `${prefix}${randomBytes(length).toString('hex')}`.slice(0, length);
}

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

/**
 * Every printed form that gives a secret away: the value, its base64 (padded, unpadded, url-safe), what
 * `echo $X | base64` prints, and the part of any base64 encoding that only the secret's bytes decide (the
 * secret at any of the three byte alignments, cut where neighbouring bytes start to matter).
 */
function revealingForms(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  const forms = new Set([secret, b64(secret), b64(secret).replace(/=+$/, ''), bytes.toString('base64url'), b64(`${secret}\n`).replace(/=+$/, '')]);
  for (const shift of [0, 1, 2]) {
    const encoded = Buffer.concat([Buffer.alloc(shift), bytes]).toString('base64').replace(/=+$/, '');
    const head = [0, 2, 3][shift]!;
    const tail = (shift + bytes.length) % 3 === 0 ? 0 : 1;
    forms.add(encoded.slice(head, encoded.length - tail));
  }
  return [...forms];
}

/** The secret forms found in `text`, named for the failure message. */
function leaksIn(text: string, secrets: Record<string, string>): string[] {
  const found: string[] = [];
  for (const [name, secret] of Object.entries(secrets)) {
    for (const form of revealingForms(secret)) if (text.includes(form)) found.push(`${name} as "${form}"`);
  }
  return found;
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
  const files: string[] = [];
  for (const entry of entries) {
    const absolute = path.join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await listFiles(absolute)));
    else if (entry.isFile()) files.push(absolute);
  }
  return files;
}

let fake: FakeModel;
let server: SpawnedConcierge;
let api: ApiClient;

beforeAll(async () => {
  fake = await startFakeModel();
  server = await spawnConcierge({ llmBaseUrl: fake.url, env: { LOG_LEVEL: 'debug' } });
  api = createApiClient(server.url, (await server.createApiKey()).key);
});

afterAll(async () => {
  await server?.stop();
  await fake?.close();
});

/** The fake model: prints every secret plainly and in base64, then repeats them verbatim in its answer. */
/** `typed`: the secrets the model itself types out (those it could have learnt; all by default). */
function leakyModel(secrets: Record<string, string>, typed: Record<string, string> = secrets): (request: FakeChatRequest) => FakeReply {
  const names = Object.keys(secrets);
  const steps = [
    names.map((name) => `echo $${name}; echo $${name} | base64`).join('; '),
    names.map((name) => `echo "user:$${name}" | base64; printf %s "$${name}" | base64 -w0; echo`).join('; '),
    names.map((name) => `touch "downloads/report-$${name}.txt"`).join('; ') + '; ls downloads',
    // The model types a secret itself, as a prompt injection would make it.
    `echo typed ${Object.values(typed).join(' ')}`,
  ];
  return (request) => {
    const last = request.messages.at(-1);
    if (last?.role === 'user' && messageText(last) === FOLLOW_UP) return { text: 'Nothing else.' };
    const done = request.messages.filter((message) => message.role === 'tool').length;
    const step = steps[done];
    if (step) return { toolCalls: [{ name: 'run_shell_command', args: { command: step } }] };
    const echoed = Object.values(typed)
      .map((secret) => `${secret} (base64 ${b64(secret)}, echoed ${b64(`${secret}\n`)})`)
      .join(' and ');
    return { text: `Here are your secrets: ${echoed}. Done.` };
  };
}

/** What one leaky task showed the outside world. */
interface LeakyRun {
  taskId: string;
  marker: string;
  answers: Array<{ what: string; body: unknown }>;
  events: StreamedEvent[];
  toolResults: ToolResultData[];
}

/** Runs one leaky task to completion plus a follow-up; returns every API answer and event it saw. */
async function runLeakyTask(
  client: ApiClient,
  secrets: Record<string, string>,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
  typed: Record<string, string> = secrets,
): Promise<LeakyRun> {
  const marker = newMarker('leak');
  fake.scenario(marker, leakyModel(secrets, typed));
  const answers: LeakyRun['answers'] = [];
  const created = await client.call('POST', '/tasks', { message: `Show me my secrets ${marker}`, ...body }, headers);
  expect(created.status).toBe(200);
  answers.push({ what: 'POST /tasks', body: created.body });
  const taskId = created.body.data.id as string;
  // Live, from the start of the task, as a browser would watch it.
  const live = await client.stream(taskId, { headers, timeoutMs: 30_000 });
  const afterTurn = await client.call('GET', `/tasks/${taskId}`, undefined, headers);
  expect(afterTurn.body.data.status).toBe('completed');
  answers.push({ what: 'GET /tasks/{id} after the turn', body: afterTurn.body });
  answers.push({ what: 'POST /tasks/{id}/messages', body: (await client.call('POST', `/tasks/${taskId}/messages`, { message: FOLLOW_UP }, headers)).body });
  const liveFollowUp = await client.stream(taskId, { headers, timeoutMs: 30_000 });
  for (const pathname of [`/tasks/${taskId}`, '/tasks', `/tasks/${taskId}/history`, `/tasks/${taskId}/artifacts`]) {
    const answer = await client.call('GET', pathname, undefined, headers);
    expect(answer.status).toBe(200);
    answers.push({ what: `GET ${pathname.replace(taskId, '{id}')}`, body: answer.body });
  }
  const replayed = await client.stream(taskId, { headers, query: '?after=0' });
  const events = [...live, ...liveFollowUp, ...replayed];
  // Every tool result of the task, in order, as history keeps them (a replay of several turns comes as history too).
  const messages = answers.find((answer) => answer.what === 'GET /tasks/{id}/history')!.body as { data: { messages: Message[] } };
  const toolResults = messages.data.messages.flatMap((message) => message.toolCalls ?? []).map(({ callId, toolName, status, output }) => ({ callId, toolName, status, output: output ?? '' }) as ToolResultData);
  return { taskId, marker, answers, events, toolResults };
}

/** Everything the test can observe outside the task's own workspace, checked for every secret form. */
async function expectNoLeaks(secrets: Record<string, string>, run: LeakyRun) {
  for (const answer of run.answers) expect(leaksIn(JSON.stringify(answer.body), secrets), answer.what).toEqual([]);
  for (const event of run.events) expect(leaksIn(JSON.stringify(event), secrets), `event ${event.event}`).toEqual([]);
  expect(leaksIn(server.lines.join('\n'), secrets)).toEqual([]);

  const ownWorkspace = path.join(server.dataDir, 'workspaces', run.taskId);
  const files = (await listFiles(server.dataDir)).filter((file) => !file.startsWith(ownWorkspace + path.sep));
  expect(files.map((file) => path.relative(server.dataDir, file))).toContain('concierge.db');
  for (const file of files) {
    // Bytewise, as latin1, so binary pages of the database and its WAL are searched too.
    expect(leaksIn((await fs.readFile(file)).toString('latin1'), secrets), path.relative(server.dataDir, file)).toEqual([]);
  }

  const requests = fake.requestsFor(run.marker);
  expect(requests.length).toBeGreaterThanOrEqual(6);
  for (const modelRequest of requests) expect(leaksIn(JSON.stringify(modelRequest.messages), secrets)).toEqual([]);
  const toolMessages = requests.at(-1)!.messages.filter((message) => message.role === 'tool').map((message) => messageText(message));
  expect(toolMessages).toHaveLength(4);
  expect(toolMessages[0]).toContain('[REDACTED]');
}

describe('secrets of a task', () => {
  it('redacts task secrets everywhere but the sandbox when the shell prints them and the model repeats them', async () => {
    // Lengths 31 and 32 give both unaligned base64 endings; each secret is long enough to be recognisable.
    const secrets = { CANARY: canary('cnry', 31), CANARY_TWO: canary('cnry', 32) };
    const run = await runLeakyTask(api, secrets, { secrets });

    // The sandbox really had the values: the command output was redacted, not empty.
    const [printed, encoded, touched, typed] = run.toolResults;
    expect(printed?.status).toBe('success');
    expect(printed?.output).toMatch(/^Exit code: 0\n--- stdout ---\n\[REDACTED\]\n\[REDACTED\]\S{0,4}\n\[REDACTED\]\n\[REDACTED\]\S{0,4}\n--- stderr ---\n$/);
    expect(encoded?.output).toContain('[REDACTED]');
    expect(touched?.output).toBe('Exit code: 0\n--- stdout ---\nreport-[REDACTED].txt\nreport-[REDACTED].txt\n--- stderr ---\n');
    expect(typed?.output).toBe('Exit code: 0\n--- stdout ---\ntyped [REDACTED] [REDACTED]\n--- stderr ---\n');
    const task = (run.answers[1]!.body as { data: { output: { content: string } } }).data;
    expect(task.output.content).toContain('Here are your secrets: [REDACTED] (base64 [REDACTED], echoed [REDACTED]');

    await expectNoLeaks(secrets, run);
    // The secrets themselves stay usable by the task: its own workspace holds the files it made with them.
    const made = await fs.readdir(path.join(server.dataDir, 'workspaces', run.taskId, 'downloads'));
    expect(made.sort()).toEqual([`report-${secrets.CANARY}.txt`, `report-${secrets.CANARY_TWO}.txt`].sort());
  });

  it('keeps an end user secret out of the sandbox and redacts the task secret when a widget task prints and repeats them', async () => {
    const created = await server.cli(['apps', 'create', '--project', 'default', '--name', 'leak-test', '--origin', ORIGIN, '--json']);
    expect(created.code).toBe(0);
    const app = JSON.parse(created.stdout) as { appId: string; appSecret: string };
    const secrets = { USER_CANARY: canary('usr', 30), TASK_CANARY: canary('tsk', 31) };
    const exchange = await request(`${server.url}/api/v1/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ appId: app.appId, appSecret: app.appSecret, endUserId: 'leak-user', secrets: { USER_CANARY: secrets.USER_CANARY } }),
    });
    expect(exchange.status).toBe(200);
    const widget = createApiClient(server.url, exchange.body.data.token as string);
    // The model types only the task's secret: the token's never reaches it (not in the sandbox, not in
    // any tool result), so it cannot be typed, and nothing the visitor sees is searched for it (that
    // search would answer the visitor's guesses).
    const run = await runLeakyTask(widget, secrets, { secrets: { TASK_CANARY: secrets.TASK_CANARY } }, { origin: ORIGIN }, { TASK_CANARY: secrets.TASK_CANARY });

    const [printed] = run.toolResults;
    // The token's secret is not in the shell at all (an empty line, the base64 of a bare newline).
    expect(printed?.output).toMatch(/^Exit code: 0\n--- stdout ---\n\nCg==\n\[REDACTED\]\n\[REDACTED\]\S{0,4}\n--- stderr ---\n$/);
    run.answers.push({ what: 'POST /auth/token', body: exchange.body });
    await expectNoLeaks(secrets, run);
  });
});
