/**
 * Task API benchmark (issue 2): the time from `POST /tasks` to the first streamed `content` event, and the
 * events per second one server delivers to 100 concurrent streams, with the offline `scripted:fast` model
 * against a real `concierge serve` process. Compares with `api-baseline.json` beside this file.
 *
 *   node --import tsx test/bench/api-bench.ts                    # run and compare
 *   node --import tsx test/bench/api-bench.ts --write-baseline   # run and store the result as the baseline
 *
 * Timing is machine-dependent: the comparison is informative, never a failure.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApiClient } from '../support/api-client.ts';
import { spawnConcierge } from '../support/spawn-concierge.ts';

const LATENCY_RUNS = 30;
const WARMUP_RUNS = 3;
const CONCURRENT_STREAMS = 100;
const BASELINE_FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'api-baseline.json');

interface BenchResult {
  firstContentMs: { median: number; p95: number; min: number; max: number; runs: number };
  throughput: { streams: number; events: number; seconds: number; eventsPerSecond: number };
  machine: { node: string; cpus: number; cpuModel: string; platform: string };
  recordedAt: string;
}

function percentile(sorted: number[], fraction: number): number {
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1));
  return sorted[index]!;
}

const round = (value: number, digits = 1) => Number(value.toFixed(digits));

function delta(current: number, baseline: number | undefined, lowerIsBetter: boolean): string {
  if (baseline === undefined || baseline === 0) return '(no baseline)';
  const change = ((current - baseline) / baseline) * 100;
  const better = lowerIsBetter ? change < 0 : change > 0;
  return `${change >= 0 ? '+' : ''}${change.toFixed(1)}% vs baseline ${baseline} (${Math.abs(change) < 5 ? 'about the same' : better ? 'better' : 'worse'})`;
}

async function main(): Promise<void> {
  const writeBaseline = process.argv.includes('--write-baseline');
  const server = await spawnConcierge({ env: { CONCIERGE_MODEL: 'scripted:fast', LOG_LEVEL: 'warn' } });
  try {
    const api = createApiClient(server.url, (await server.createApiKey('bench')).key);

    // 1. POST /tasks → first `content` event, one task at a time.
    const samples: number[] = [];
    for (let run = 0; run < WARMUP_RUNS + LATENCY_RUNS; run++) {
      const started = performance.now();
      const id = await api.createTask({ message: 'hello' });
      const events = await api.stream(id, { query: '?after=0', until: (event) => event.event === 'content' });
      const elapsed = performance.now() - started;
      if (!events.some((event) => event.event === 'content')) throw new Error(`task ${id}: the stream ended without a content event`);
      if (run >= WARMUP_RUNS) samples.push(elapsed);
      await api.waitForStatus(id, ['completed', 'failed']);
    }
    samples.sort((a, b) => a - b);

    // 2. 100 tasks at once, each followed by its own stream from the start of its log (`?after=0`), so every
    // stream delivers every event of its task whether it joins early or late.
    const started = performance.now();
    const counts = await Promise.all(
      Array.from({ length: CONCURRENT_STREAMS }, async (_, index) => {
        const id = await api.createTask({ message: `markdown please (${index})` });
        const events = await api.stream(id, { query: '?after=0', timeoutMs: 120_000 });
        if (events.at(-1)?.event !== 'done') throw new Error(`task ${id}: the stream ended with ${events.at(-1)?.event}, not done`);
        return events.length;
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const events = counts.reduce((sum, count) => sum + count, 0);

    const result: BenchResult = {
      firstContentMs: {
        median: round(percentile(samples, 0.5)),
        p95: round(percentile(samples, 0.95)),
        min: round(samples[0]!),
        max: round(samples.at(-1)!),
        runs: samples.length,
      },
      throughput: { streams: CONCURRENT_STREAMS, events, seconds: round(seconds, 2), eventsPerSecond: Math.round(events / seconds) },
      machine: { node: process.version, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', platform: `${os.platform()} ${os.arch()}` },
      recordedAt: new Date().toISOString(),
    };

    const baseline = await fs
      .readFile(BASELINE_FILE, 'utf8')
      .then((text) => JSON.parse(text) as BenchResult)
      .catch(() => undefined);
    const { firstContentMs, throughput } = result;
    console.log(`Concierge API benchmark (scripted:fast, ${result.machine.cpus} CPUs, Node ${result.machine.node})`);
    console.log(`POST /tasks → first content event, ${firstContentMs.runs} runs:`);
    console.log(`  median ${firstContentMs.median} ms  ${delta(firstContentMs.median, baseline?.firstContentMs.median, true)}`);
    console.log(`  p95    ${firstContentMs.p95} ms  ${delta(firstContentMs.p95, baseline?.firstContentMs.p95, true)}`);
    console.log(`  min ${firstContentMs.min} ms, max ${firstContentMs.max} ms`);
    console.log(`${throughput.streams} concurrent streams: ${throughput.events} events in ${throughput.seconds} s`);
    console.log(`  ${throughput.eventsPerSecond} events/s  ${delta(throughput.eventsPerSecond, baseline?.throughput.eventsPerSecond, false)}`);
    if (baseline) console.log(`(baseline recorded ${baseline.recordedAt} on ${baseline.machine.cpus} CPUs, ${baseline.machine.cpuModel})`);
    if (writeBaseline || !baseline) {
      await fs.writeFile(BASELINE_FILE, `${JSON.stringify(result, null, 2)}\n`);
      console.log(`Wrote ${path.relative(process.cwd(), BASELINE_FILE)}`);
    }
  } finally {
    await server.stop();
  }
}

await main();
