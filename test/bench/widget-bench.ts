// Widget benchmark: `node --import tsx test/bench/widget-bench.ts [--runs N] [--write-baseline]`.
// Prints the loader and full bundle sizes (raw and gzip) and, in Chromium against a real server with the
// host page on another origin, how fast the launcher is drawn and how long the opened widget takes to be
// interactive (click on the launcher → composer enabled and painted), median and p95 of N fresh visits.
// Compares with test/bench/widget-baseline.json when it exists.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { ensureWidgetBuilt, WIDGET_DIR } from '../e2e/ensure-widget-built.ts';
import { startWidgetHarness } from '../e2e/widget-harness.ts';

interface Size {
  raw: number;
  gzip: number;
}

interface Timing {
  median: number;
  p95: number;
}

interface BenchResult {
  runs: number;
  sizes: { loader: Size; app: Size; total: Size };
  /** Navigation start → launcher in the page. */
  launcherDrawnMs: Timing;
  /** Click before any preload (idle callbacks withheld, so the loader's 3 s fallback has not fired) → composer enabled: fetches, evaluates and mounts the app chunk. */
  openColdMs: Timing;
  /** Cold runs in which the idle-time preload had already fetched the app chunk before the click. */
  coldRunsWithChunkLoaded: number;
  /** Click after the idle-time preload of the app chunk → composer enabled. */
  openPreloadedMs: Timing;
  host: { cpus: number; node: string; chromium: string };
}

const BASELINE_FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'widget-baseline.json');
/** Time regressions above this fraction of the baseline are flagged (timings on shared machines are noisy). */
const TIME_TOLERANCE = 0.5;
/** Size growth above this many gzip bytes is flagged (STYLE.md: more than 1 KB needs a reason). */
const SIZE_TOLERANCE_BYTES = 1024;

function argument(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index === -1 ? undefined : (process.argv[index + 1] ?? '');
}

function toTiming(values: number[]): Timing {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (fraction: number) => Math.round((sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] ?? 0) * 10) / 10;
  return { median: at(0.5), p95: at(0.95) };
}

function measure(file: string): Size {
  const content = readFileSync(file);
  return { raw: content.length, gzip: gzipSync(content, { level: 9 }).length };
}

function measureBundle(): BenchResult['sizes'] {
  const dist = path.join(WIDGET_DIR, 'dist');
  const appName = readdirSync(path.join(dist, 'chunks')).find((name) => /^app-[\w-]+\.js$/.test(name));
  if (!appName) throw new Error('widget/dist/chunks/app-[hash].js is missing after the build');
  const loader = measure(path.join(dist, 'concierge.js'));
  const app = measure(path.join(dist, 'chunks', appName));
  return { loader, app, total: { raw: loader.raw + app.raw, gzip: loader.gzip + app.gzip } };
}

/** Records, from the first script on, when the loader puts its launcher into the page. */
function recordLauncherDrawn(): void {
  const record = window as unknown as { __launcherDrawnAt?: number };
  const observer = new MutationObserver(() => {
    if (document.querySelector('concierge-chat')?.shadowRoot?.querySelector('.cc-launcher')) {
      record.__launcherDrawnAt = performance.now();
      observer.disconnect();
    }
  });
  observer.observe(document, { childList: true, subtree: true });
}

/** Clicks the launcher inside the page and resolves with the ms until the composer is enabled and painted. */
function clickUntilInteractive(page: Page): Promise<number> {
  return page.evaluate(
    () =>
      new Promise<number>((resolve) => {
        const shadow = document.querySelector('concierge-chat')!.shadowRoot!;
        const started = performance.now();
        // No named inner functions: tsx would wrap them in a `__name` helper the page does not have.
        const observer = new MutationObserver(() => {
          const input = shadow.querySelector('textarea');
          if (!(input instanceof HTMLTextAreaElement) || input.disabled) return;
          observer.disconnect();
          requestAnimationFrame(() => resolve(performance.now() - started));
        });
        observer.observe(shadow, { childList: true, subtree: true, attributes: true });
        (shadow.querySelector('.cc-launcher') as HTMLButtonElement).click();
      }),
  );
}

function compare(label: string, current: number, baseline: number | undefined, unit: string, flagged: (delta: number) => boolean): string {
  if (baseline === undefined) return `${label}: ${current} ${unit}`;
  const delta = current - baseline;
  const percent = baseline === 0 ? 0 : (delta / baseline) * 100;
  const sign = delta >= 0 ? '+' : '';
  return `${label}: ${current} ${unit} (baseline ${baseline}, ${sign}${Math.round(delta * 10) / 10} ${unit}, ${sign}${percent.toFixed(1)}%)${flagged(delta) ? '  <-- regression' : ''}`;
}

async function main(): Promise<void> {
  const runs = Number(argument('--runs') ?? 15);
  ensureWidgetBuilt();
  const sizes = measureBundle();
  const harness = await startWidgetHarness({ CONCIERGE_MODEL: 'scripted:fast' });
  const launcherDrawn: number[] = [];
  const openCold: number[] = [];
  const openPreloaded: number[] = [];
  let coldRunsWithChunkLoaded = 0;
  try {
    const visit = async (preloaded: boolean) => {
      const context = await harness.browser.newContext({ viewport: { width: 1000, height: 760 } });
      try {
        await context.addInitScript(recordLauncherDrawn);
        // Cold: without requestIdleCallback the loader preloads only after 3 s, so the click loads the chunk itself.
        if (!preloaded) await context.addInitScript(() => Object.defineProperty(window, 'requestIdleCallback', { value: undefined }));
        const page = await context.newPage();
        const url = harness.host.addPage({ app: harness.apps.auto, endUserId: `bench-${Date.now()}` });
        await page.goto(url, { waitUntil: 'domcontentloaded' });
        await page.waitForFunction(() => (window as unknown as { __launcherDrawnAt?: number }).__launcherDrawnAt !== undefined, undefined, { polling: 5 });
        if (preloaded) {
          await page.waitForFunction(() => performance.getEntriesByType('resource').some((entry) => /\/chunks\/app-/.test(entry.name)));
          await page.waitForTimeout(100);
        } else {
          launcherDrawn.push(await page.evaluate(() => (window as unknown as { __launcherDrawnAt: number }).__launcherDrawnAt));
          const chunkLoaded = await page.evaluate(() => performance.getEntriesByType('resource').some((entry) => /\/chunks\/app-/.test(entry.name)));
          if (chunkLoaded) coldRunsWithChunkLoaded += 1;
        }
        (preloaded ? openPreloaded : openCold).push(await clickUntilInteractive(page));
      } finally {
        await context.close();
      }
    };
    await visit(false);
    await visit(true);
    launcherDrawn.length = 0;
    coldRunsWithChunkLoaded = 0;
    openCold.length = 0;
    openPreloaded.length = 0;
    for (let run = 0; run < runs; run += 1) {
      await visit(false);
      await visit(true);
    }
  } finally {
    await harness.close();
  }

  const result: BenchResult = {
    runs,
    sizes,
    launcherDrawnMs: toTiming(launcherDrawn),
    openColdMs: toTiming(openCold),
    coldRunsWithChunkLoaded,
    openPreloadedMs: toTiming(openPreloaded),
    host: { cpus: cpus().length, node: process.version, chromium: chromium.name() },
  };
  const baseline = existsSync(BASELINE_FILE) ? (JSON.parse(readFileSync(BASELINE_FILE, 'utf8')) as BenchResult) : undefined;
  const sizeFlag = (delta: number) => delta > SIZE_TOLERANCE_BYTES;
  const timeFlag = (base: number | undefined) => (delta: number) => base !== undefined && delta > base * TIME_TOLERANCE && delta > 5;
  const lines = [
    `widget bench: ${runs} fresh visits per measure, ${result.host.cpus} CPUs, Node ${result.host.node}`,
    compare('loader raw', sizes.loader.raw, baseline?.sizes.loader.raw, 'B', sizeFlag),
    compare('loader gzip', sizes.loader.gzip, baseline?.sizes.loader.gzip, 'B', sizeFlag),
    compare('app chunk raw', sizes.app.raw, baseline?.sizes.app.raw, 'B', sizeFlag),
    compare('app chunk gzip', sizes.app.gzip, baseline?.sizes.app.gzip, 'B', sizeFlag),
    compare('full bundle raw', sizes.total.raw, baseline?.sizes.total.raw, 'B', sizeFlag),
    compare('full bundle gzip', sizes.total.gzip, baseline?.sizes.total.gzip, 'B', sizeFlag),
    compare('launcher drawn (median)', result.launcherDrawnMs.median, baseline?.launcherDrawnMs.median, 'ms', timeFlag(baseline?.launcherDrawnMs.median)),
    compare('open → interactive, cold (median)', result.openColdMs.median, baseline?.openColdMs.median, 'ms', timeFlag(baseline?.openColdMs.median)),
    `open → interactive, cold (p95): ${result.openColdMs.p95} ms (app chunk already preloaded in ${coldRunsWithChunkLoaded}/${runs} cold runs)`,
    compare('open → interactive, preloaded (median)', result.openPreloadedMs.median, baseline?.openPreloadedMs.median, 'ms', timeFlag(baseline?.openPreloadedMs.median)),
    `open → interactive, preloaded (p95): ${result.openPreloadedMs.p95} ms`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  if (process.argv.includes('--write-baseline')) {
    writeFileSync(BASELINE_FILE, `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(`wrote ${path.relative(process.cwd(), BASELINE_FILE)}\n`);
  }
}

await main();
