/**
 * Streaming benchmark (issue 12), side by side in one run: 100 conversations × 200 streamed chunks through
 * a bare Node relay (model → SSE, nothing stored: bare-relay.ts) and through `concierge serve` on SQLite,
 * and on PostgreSQL with 1, 2 and 3 servers when BENCH_DATABASE_URL names a server the bench may create
 * databases on. Also the first-token latency: POST → first `content` event, against the relay's (which is
 * the model's own first-chunk time plus a bare hop). Every stream's text is checked whole. Compares with
 * `stream-baseline.json` beside this file.
 *
 *   node --import tsx test/bench/stream-bench.ts [--write-baseline]
 *   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres node --import tsx test/bench/stream-bench.ts
 *
 * Timing is machine-dependent: the figures inform, they never fail a build.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestDatabase } from '../../server/src/testing/create-test-database.ts';
import { createApiClient } from '../support/api-client.ts';
import { startFakeModel } from '../support/fake-model.ts';
import { findFreePort, REPO_ROOT, type SpawnedConcierge, spawnConcierge } from '../support/spawn-concierge.ts';

const CONVERSATIONS = 100;
const CHUNKS = 200;
const CHUNK = 'word ';
const LATENCY_RUNS = 30;
const WARMUP = 5;
const BASELINE_FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'stream-baseline.json');
const MARKER = 'stream-bench';

interface Column {
  name: string;
  chunksPerSecond: number;
  firstContentMedianMs: number;
}

const round = (value: number, digits = 1) => Number(value.toFixed(digits));
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** Reads an SSE response until `done` (or the end), calling `onContent` per content event; returns the final text. */
async function readStream(response: Response, onFirstContent?: () => void): Promise<string> {
  const decoder = new TextDecoder();
  let buffer = '';
  let text = '';
  let first = true;
  for await (const bytes of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(bytes, { stream: true });
    let end = buffer.indexOf('\n\n');
    while (end >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      end = buffer.indexOf('\n\n');
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event === 'content') {
        const content = JSON.parse(data!) as { text: string; isPartial: boolean };
        if (first) onFirstContent?.();
        first = false;
        text = content.isPartial ? text + content.text : content.text;
      } else if (event === 'history_message') {
        const message = JSON.parse(data!) as { role: string; content: string };
        if (message.role === 'assistant') text = message.content;
      } else if (event === 'done') {
        return (JSON.parse(data!) as { finalResponse: string }).finalResponse;
      }
    }
  }
  return text;
}

const expected = CHUNK.repeat(CHUNKS).trim();
function check(text: string, where: string) {
  if (text.trim() !== expected) throw new Error(`${where}: the stream delivered ${text.length} characters, not the ${expected.length} sent`);
}

/** One conversation: starts it and reads its stream to the end; `firstContent` gets the ms to the first content event. */
type Conversation = (index: number, firstContent?: (ms: number) => void) => Promise<void>;

async function measure(name: string, conversation: Conversation): Promise<Column> {
  for (let run = 0; run < WARMUP; run++) await conversation(run);
  const latencies: number[] = [];
  for (let run = 0; run < LATENCY_RUNS; run++) await conversation(run, (ms) => latencies.push(ms));
  const started = performance.now();
  await Promise.all(Array.from({ length: CONVERSATIONS }, (_, index) => conversation(index)));
  const seconds = (performance.now() - started) / 1000;
  return { name, chunksPerSecond: Math.round((CONVERSATIONS * CHUNKS) / seconds), firstContentMedianMs: round(median(latencies)) };
}

async function startRelay(modelUrl: string): Promise<{ url: string; process: ChildProcess }> {
  const port = await findFreePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/bench/bare-relay.ts', String(port), modelUrl], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
  return { url: `http://127.0.0.1:${port}`, process: child };
}

function relayConversation(url: string): Conversation {
  return async (index, firstContent) => {
    const started = performance.now();
    const response = await fetch(`${url}/relay`, { method: 'POST', body: JSON.stringify({ message: `${MARKER} ${index}` }) });
    check(await readStream(response, () => firstContent?.(performance.now() - started)), 'relay');
  };
}

function conciergeConversation(servers: SpawnedConcierge[], key: string): Conversation {
  const clients = servers.map((server) => createApiClient(server.url, key));
  return async (index, firstContent) => {
    const client = clients[index % clients.length]!;
    const started = performance.now();
    const id = await client.createTask({ message: `${MARKER} ${index}` });
    const response = await fetch(client.api(`/tasks/${id}/stream`), { headers: client.auth });
    check(await readStream(response, () => firstContent?.(performance.now() - started)), `task ${id}`);
  };
}

async function conciergeColumn(name: string, count: number, modelUrl: string, databaseUrl?: string): Promise<Column> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'concierge-bench-'));
  const env: Record<string, string> = { LOG_LEVEL: 'warn', CONCIERGE_MAX_CONCURRENT_TASKS: '128', ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}) };
  const servers: SpawnedConcierge[] = [];
  try {
    for (let index = 0; index < count; index++) servers.push(await spawnConcierge({ llmBaseUrl: modelUrl, env, dataDir }));
    const key = (await servers[0]!.createApiKey()).key;
    return await measure(name, conciergeConversation(servers, key));
  } finally {
    for (const server of servers) await server.stop();
  }
}

async function main(): Promise<void> {
  const writeBaseline = process.argv.includes('--write-baseline');
  const fake = await startFakeModel();
  fake.scenario(MARKER, () => ({ text: Array.from({ length: CHUNKS }, () => CHUNK) }));
  const columns: Column[] = [];
  const relay = await startRelay(fake.url);
  try {
    columns.push(await measure('bare relay', relayConversation(relay.url)));
  } finally {
    relay.process.kill();
  }
  columns.push(await conciergeColumn('Concierge, SQLite', 1, fake.url));
  const postgres = process.env.BENCH_DATABASE_URL;
  if (postgres) {
    for (const count of [1, 2, 3]) {
      const database = await createTestDatabase(postgres);
      try {
        columns.push(await conciergeColumn(`Concierge, PostgreSQL, ${count} server${count > 1 ? 's' : ''}`, count, fake.url, database.url));
      } finally {
        await database.drop();
      }
    }
  }
  await fake.close();

  const reference = columns[0]!;
  const baseline = await fs
    .readFile(BASELINE_FILE, 'utf8')
    .then((text) => JSON.parse(text) as { columns: Column[]; recordedAt: string })
    .catch(() => undefined);
  console.log(`Streaming benchmark: ${CONVERSATIONS} conversations × ${CHUNKS} chunks at once; first token over ${LATENCY_RUNS} runs (${os.cpus().length} CPUs, Node ${process.version})`);
  console.log('| | chunks/s | vs relay | first content (median) | added by the server | baseline chunks/s |');
  console.log('|---|---|---|---|---|---|');
  for (const column of columns) {
    const before = baseline?.columns.find((entry) => entry.name === column.name);
    console.log(
      `| ${column.name} | ${column.chunksPerSecond} | ${round(column.chunksPerSecond / reference.chunksPerSecond, 2)}× | ${column.firstContentMedianMs} ms | ` +
        `${round(column.firstContentMedianMs - reference.firstContentMedianMs)} ms | ${before ? `${before.chunksPerSecond} (${before.firstContentMedianMs} ms)` : '—'} |`,
    );
  }
  if (baseline) console.log(`(baseline recorded ${baseline.recordedAt})`);
  if (writeBaseline || !baseline) {
    await fs.writeFile(BASELINE_FILE, `${JSON.stringify({ columns, recordedAt: new Date().toISOString() }, null, 2)}\n`);
    console.log(`Wrote ${path.relative(process.cwd(), BASELINE_FILE)}`);
  }
}

await main();
