import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiClient, createApiClient } from '../support/api-client.ts';
import { type FakeModel, messageText, startFakeModel } from '../support/fake-model.ts';
import { type SpawnedConcierge, spawnConcierge } from '../support/spawn-concierge.ts';
import { newMarker, replayEvents, type ToolResultData, type ToolStep } from './agent-harness.ts';

// A visitor who drives the shell prints a task secret in forms a plain search misses: split between
// stdout and stderr, spaced out, upper-cased, as JSON escapes, cut by the output cap. The model then
// repeats it in such forms, split across stream chunks. None of it may reach an event, history, a
// model request or the stored database.

const MAX_OUTPUT_BYTES = 1024;
const CANARY = `cnry${randomBytes(14).toString('hex')}`;

/** The text folded as a reader would undo it: escapes decoded, whitespace and backslashes dropped, lower case. */
function unfold(text: string): string {
  return text
    .replace(/\\+u([0-9a-fA-F]{4})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)))
    .replace(/\\+[nrt]/g, '')
    .replace(/[\s\\]+/g, '')
    .toLowerCase();
}

/** Pieces of the canary (8 characters or more) that `text` still gives away once unfolded. */
function canaryPiecesIn(text: string): string[] {
  const unfolded = unfold(text);
  const found: string[] = [];
  for (let start = 0; start + 8 <= CANARY.length; start++) {
    const piece = CANARY.slice(start, start + 8);
    if (unfolded.includes(piece)) found.push(piece);
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
let dataDir: string;

beforeAll(async () => {
  dataDir = await fs.mkdtemp(path.join('/var/tmp', 'concierge-secret-forms-'));
  fake = await startFakeModel();
  server = await spawnConcierge({ llmBaseUrl: fake.url, env: { CONCIERGE_DATA_DIR: dataDir, LOG_LEVEL: 'debug' } });
  const projectFile = path.join(dataDir, '..', `${path.basename(dataDir)}.projects.json`);
  await fs.writeFile(projectFile, JSON.stringify({ projects: { default: { sandbox: { maxOutputBytes: MAX_OUTPUT_BYTES } } } }));
  try {
    const applied = await server.cli(['projects', 'apply', projectFile]);
    if (applied.code !== 0) throw new Error(`projects apply failed: ${applied.stderr}`);
  } finally {
    await fs.rm(projectFile, { force: true });
  }
  api = createApiClient(server.url, (await server.createApiKey()).key);
});

afterAll(async () => {
  await server?.stop();
  await fake?.close();
});

const shell = (command: string): ToolStep => ({ name: 'run_shell_command', args: { command } });
/** `$S` as JSON `\u` escapes, one per byte, as `od` lists its bytes. */
const ESCAPE_ALL = `printf %s "$S" | od -An -v -tx1 | tr -s ' \\n' '\\n\\n' | sed '/^$/d; s/^/\\\\u00/' | tr -d '\\n'`;

const STEPS: Array<{ name: string; step: ToolStep }> = [
  { name: 'split between stdout and stderr', step: shell('printf %s "$S" | cut -c1-5; printf %s "$S" | cut -c6- >&2') },
  { name: 'split between stderr and stdout', step: shell('printf %s "$S" | cut -c1-9 >&2; printf %s "$S" | cut -c10-') },
  { name: 'spaced out', step: shell(`printf %s "$S" | sed 's/./& /g'`) },
  { name: 'one character per line', step: shell('printf %s "$S" | fold -w1') },
  { name: 'tab separated', step: shell(`printf %s "$S" | sed 's/./&\\t/g'`) },
  { name: 'upper case', step: shell(`printf %s "$S" | tr a-z A-Z`) },
  { name: 'all JSON escapes', step: shell(ESCAPE_ALL) },
  { name: 'digits as JSON escapes', step: shell(`printf %s "$S" | sed 's/0/\\\\u0030/g; s/7/\\\\u0037/g; s/c/\\\\u0063/g'`) },
  { name: '\\n escapes between characters', step: shell(`printf %s "$S" | sed 's/./&\\\\n/g'`) },
  { name: 'straddling the stdout cap', step: shell(`head -c ${MAX_OUTPUT_BYTES - 12} /dev/zero | tr '\\0' x; printf %s "$S"`) },
  { name: 'straddling the stderr cap', step: shell(`{ head -c ${MAX_OUTPUT_BYTES - 20} /dev/zero | tr '\\0' y; printf %s "$S"; } >&2`) },
  { name: 'URL-encoded', step: shell(`printf %s "$S" | od -An -v -tx1 | tr -s ' \\n' '\\n\\n' | sed '/^$/d; s/^/%/' | tr -d '\\n'`) },
  { name: 'coloured character by character', step: shell(`printf %s "$S" | sed 's/./\\x1b[1;31m&/g'`) },
];

/** The model's answer, typing the secret itself in folded forms, each split across content chunks. */
function answerChunks(): string[] {
  const escaped = [...CANARY].map((character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`).join('');
  const forms = [CANARY.toUpperCase(), [...CANARY].join(' '), escaped, [...CANARY].join('\\n'), CANARY];
  const chunks = ['Here it is: '];
  for (const [index, form] of forms.entries()) {
    const cut = 3 + index * 5;
    chunks.push(form.slice(0, cut), form.slice(cut, cut + 4), `${form.slice(cut + 4)}; `);
  }
  chunks.push('done.');
  return chunks;
}

describe('a secret printed in folded forms', () => {
  it('never reaches events, history, model requests or the database, whichever form the shell or the model uses', async () => {
    const marker = newMarker('secret-forms');
    fake.scenario(marker, (request) => {
      const step = STEPS[request.messages.filter((message) => message.role === 'tool').length];
      return step ? { toolCalls: [{ name: step.step.name, args: step.step.args }] } : { text: answerChunks() };
    });
    const created = await api.call('POST', '/tasks', { message: `Show me ${marker}`, secrets: { S: CANARY } });
    expect(created.status).toBe(200);
    const taskId = created.body.data.id as string;
    const live = await api.stream(taskId, { timeoutMs: 60_000 });
    const replayed = await replayEvents(api, taskId);
    const run = { taskId, marker, events: [...live, ...replayed], results: live.filter((event) => event.event === 'tool_result').map((event) => event.data as ToolResultData) };
    const finished = await api.call('GET', `/tasks/${taskId}`);
    expect(finished.body.data.status).toBe('completed');
    // The model streamed the answer in many chunks, each secret form split across them; the server joins
    // deltas that arrive together into one content event, after redacting them as a stream. The content
    // events carry the answer redacted, not dropped: every form became [REDACTED].
    expect(fake.requestsFor(marker).length).toBeGreaterThan(STEPS.length);
    const streamed = live
      .filter((event) => event.event === 'content' && (event.data as { isPartial: boolean }).isPartial)
      .map((event) => (event.data as { text: string }).text)
      .join('');
    expect(streamed.startsWith('Here it is: ')).toBe(true);
    expect(streamed.match(/\[REDACTED\]/g)?.length).toBe(5);
    expect(streamed.endsWith('done.')).toBe(true);
    expect(run.results).toHaveLength(STEPS.length);
    // The sandbox really had the value and printed it: each output was redacted, not empty.
    for (const [index, result] of run.results.entries()) expect(result.output, STEPS[index]!.name).toContain('[REDACTED]');
    // Each stream of a split keeps no piece of the secret, not even the short one.
    expect(run.results[0]!.output).toBe('Exit code: 0\n--- stdout ---\n[REDACTED]\n--- stderr ---\n[REDACTED]');
    expect(run.results[1]!.output).toBe('Exit code: 0\n--- stdout ---\n[REDACTED]\n--- stderr ---\n[REDACTED]');
    // The cap kept 12 (then 20) characters of the secret: they are hidden with it.
    expect(run.results[9]!.output).toContain(`${'x'.repeat(MAX_OUTPUT_BYTES - 12)}[REDACTED]\n`);
    expect(run.results[10]!.output).toContain(`${'y'.repeat(MAX_OUTPUT_BYTES - 20)}[REDACTED]\n`);
    // Nothing of the secret is left between the escapes: the whole stretch is one [REDACTED].
    expect(run.results[11]!.output).toBe('Exit code: 0\n--- stdout ---\n[REDACTED]\n--- stderr ---\n');
    expect(run.results[12]!.output).toBe('Exit code: 0\n--- stdout ---\n\x1b[1;31m[REDACTED]\n--- stderr ---\n');

    const history = await api.call('GET', `/tasks/${run.taskId}/history`);
    expect(history.status).toBe(200);
    const task = await api.call('GET', `/tasks/${run.taskId}`);
    for (const [what, body] of [['history', history.body], ['task', task.body]] as const) {
      expect(canaryPiecesIn(JSON.stringify(body)), what).toEqual([]);
    }
    for (const event of run.events) expect(canaryPiecesIn(JSON.stringify(event)), `event ${event.event}`).toEqual([]);
    expect(canaryPiecesIn(server.lines.join('\n')), 'server log').toEqual([]);
    for (const modelRequest of fake.requestsFor(run.marker)) expect(canaryPiecesIn(JSON.stringify(modelRequest.messages))).toEqual([]);
    expect(messageText(fake.requestsFor(run.marker).at(-1)?.messages.at(-1))).toContain('[REDACTED]');

    const ownWorkspace = path.join(dataDir, 'workspaces', run.taskId);
    const files = (await listFiles(dataDir)).filter((file) => !file.startsWith(ownWorkspace + path.sep));
    expect(files.map((file) => path.relative(dataDir, file))).toContain('concierge.db');
    for (const file of files) {
      expect(canaryPiecesIn((await fs.readFile(file)).toString('latin1')), path.relative(dataDir, file)).toEqual([]);
    }
  });
});

describe('file names made from a secret', () => {
  it('stay redacted in the artifact listing after a restart, when the secret is gone from memory', async () => {
    const marker = newMarker('secret-names');
    const command = 'touch "downloads/report-$S.txt" "downloads/$(printf %s "$S" | tr a-z A-Z).csv" downloads/plain.txt';
    fake.scenario(marker, (request) =>
      request.messages.some((message) => message.role === 'tool') ? { text: 'Files made.' } : { toolCalls: [{ name: 'run_shell_command', args: { command } }] },
    );
    const created = await api.call('POST', '/tasks', { message: `Make files ${marker}`, secrets: { S: CANARY } });
    expect(created.status).toBe(200);
    const taskId = created.body.data.id as string;
    expect((await api.waitForStatus(taskId, ['completed', 'failed'], 30_000)).status).toBe('completed');
    const expected = ['downloads/[REDACTED].csv', 'downloads/plain.txt', 'downloads/report-[REDACTED].txt'];
    const listed = async () => {
      const answer = await api.call('GET', `/tasks/${taskId}/artifacts`);
      expect(answer.status).toBe(200);
      expect(canaryPiecesIn(JSON.stringify(answer.body))).toEqual([]);
      return (answer.body.data.files as Array<{ path: string }>).map((file) => file.path).sort();
    };
    expect(await listed()).toEqual(expected);

    await server.restart();
    // The task's secrets lived in memory only: after the restart only the stored fingerprints know them.
    expect(await listed()).toEqual(expected);
    const database = (await fs.readFile(path.join(dataDir, 'concierge.db'))).toString('latin1');
    expect(canaryPiecesIn(database)).toEqual([]);
    // The files really carry the secret in the task's own workspace.
    expect((await fs.readdir(path.join(dataDir, 'workspaces', taskId, 'downloads'))).sort()).toEqual([`${CANARY.toUpperCase()}.csv`, 'plain.txt', `report-${CANARY}.txt`]);
  });
});
