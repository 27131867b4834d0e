import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findFreePort, isListening } from './free-port.ts';
import { findSurvivors, listDescendants } from './process-tree.ts';
import { type DemoBanner, type DemoCommand, runDemoCommand } from './run-demo-command.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../e2e/launch-chromium.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const READY_TIMEOUT_MS = 120_000;
/** Set to a path (e.g. docs/images/demo.png) to save the screenshot of the page with the chat open. */
const SCREENSHOT = process.env.CONCIERGE_DEMO_SCREENSHOT;

let temporaryDir: string;
let dataDir: string;
let environment: Record<string, string>;
let browser: BrowserContext | undefined;
let firstRun: DemoBanner | undefined;
const started: DemoCommand[] = [];

/** Every pid and process group the demo is made of right now. */
function snapshotProcesses(command: DemoCommand): { pids: number[]; groups: number[]; commands: string[] } {
  const tree = listDescendants(command.pid);
  return { pids: tree.map((info) => info.pid), groups: [...new Set(tree.map((info) => info.pgid))], commands: tree.map((info) => info.command) };
}

/** Waits for the command to exit after a signal, then checks that nothing it started is left. */
async function expectFullStop(
  command: DemoCommand,
  snapshot: ReturnType<typeof snapshotProcesses>,
  ports: number[],
  expectedExit: { code: number | null; signal: NodeJS.Signals | null },
): Promise<void> {
  const timeout = new Promise<'timeout'>((resolve) => setTimeout(resolve, 30_000, 'timeout'));
  const exit = await Promise.race([command.exited, timeout]);
  expect(exit, `the demo did not exit within 30 s:\n${command.output()}`).not.toBe('timeout');
  expect(exit).toEqual(expectedExit);
  expect(command.output()).toContain('demo: stopped.');
  // A moment for the kernel to tear down the last group members after their parent returned.
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(findSurvivors(snapshot.pids, snapshot.groups)).toEqual([]);
  for (const port of ports) expect(await isListening(port), `port ${port} is still open`).toBe(false);
}

beforeAll(async () => {
  temporaryDir = fs.mkdtempSync(path.join(os.tmpdir(), 'concierge-demo-test-'));
  // As a data dir must be for a root server: traversable by the sandbox's host user (docs/operations.md).
  fs.chmodSync(temporaryDir, 0o711);
  dataDir = path.join(temporaryDir, 'data');
  const [apiPort, demoPort] = [await findFreePort(), await findFreePort()];
  environment = {
    CONCIERGE_DATA_DIR: dataDir,
    PORT: String(apiPort),
    DEMO_PORT: String(demoPort),
    // Dependencies are installed and built by whoever runs the tests; setup.sh itself is not under test.
    CONCIERGE_DEMO_SKIP_SETUP: '1',
  };
  // A persistent context is how playwright takes a fresh --user-data-dir of our choosing.
  browser = await chromium.launchPersistentContext(path.join(temporaryDir, 'chromium'), {
    executablePath: CHROMIUM_PATH,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 860 },
    acceptDownloads: true,
  });
});

afterAll(async () => {
  await browser?.close();
  for (const command of started) {
    try {
      process.kill(-command.pid, 'SIGKILL');
    } catch {
      // Already stopped, as it should be.
    }
  }
  fs.rmSync(temporaryDir, { recursive: true, force: true });
});

describe('npm run demo', () => {
  it('serves the help centre where the widget completes a chat with an approval and a download, and stops on SIGINT', async () => {
    const command = runDemoCommand('npm', ['run', 'demo'], { cwd: ROOT, env: environment, timeoutMs: READY_TIMEOUT_MS });
    started.push(command);
    const banner = await command.ready;
    firstRun = banner;
    expect(banner.demoUrl).toBe(`http://localhost:${environment.DEMO_PORT}`);
    expect(banner.apiKey).toMatch(/^ck_[0-9a-f]{64}$/);
    const health = (await (await fetch(banner.healthUrl)).json()) as { status: string; model: { provider: string } };
    expect(health).toMatchObject({ status: 'ok', model: { provider: 'scripted' } });

    const stateFile = path.join(dataDir, 'demo.json');
    expect(fs.statSync(stateFile).mode & 0o777).toBe(0o600);
    const state = JSON.parse(fs.readFileSync(stateFile, 'utf8')) as { apiKey: { key: string }; app: { appId: string; appSecret: string } };
    expect(state.apiKey.key).toBe(banner.apiKey);
    expect(state.app.appId).toBe(banner.appId);

    const page = await browser!.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    const tokenResponses: unknown[] = [];
    page.on('response', async (response) => {
      if (response.url().endsWith('/concierge-token')) tokenResponses.push(await response.json().catch(() => 'not JSON'));
    });

    await page.goto(banner.demoUrl);
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toContain('Hi Ada');
    // The app secret stays on the shop's backend.
    expect(await page.content()).not.toContain(state.app.appSecret);

    const widget = page.locator('concierge-chat');
    const launcher = widget.getByRole('button', { name: 'Open chat' });
    await launcher.waitFor({ timeout: 15_000 });
    // The page styles every button orange and uppercase; the widget's shadow root keeps its own look.
    const launcherStyle = await launcher.evaluate((element) => {
      const style = getComputedStyle(element);
      return { textTransform: style.textTransform, background: style.backgroundColor };
    });
    expect(launcherStyle.textTransform).not.toBe('uppercase');
    expect(launcherStyle.background).not.toBe('rgb(194, 65, 12)');
    await launcher.click();

    const composer = widget.getByRole('textbox');
    await composer.fill('run `date`');
    await composer.press('Enter');
    await widget.getByRole('button', { name: 'Allow once' }).click({ timeout: 30_000 });
    await expect.poll(() => widget.getByText('You allowed this once.').count(), { timeout: 30_000 }).toBe(1);
    // The scripted model reports the command's exit code once the sandbox has run it.
    await expect.poll(() => widget.getByText(/exited with code 0/).count(), { timeout: 30_000 }).toBeGreaterThan(0);
    await expect.poll(() => composer.isEnabled(), { timeout: 30_000 }).toBe(true);

    await composer.fill('write a report');
    await composer.press('Enter');
    const downloadButton = widget.getByRole('button', { name: 'Download report.md' });
    await downloadButton.waitFor({ timeout: 30_000 });
    await expect.poll(() => composer.isEnabled(), { timeout: 30_000 }).toBe(true);

    if (SCREENSHOT) {
      await downloadButton.scrollIntoViewIfNeeded();
      await page.mouse.move(0, 0);
      await page.screenshot({ path: path.resolve(ROOT, SCREENSHOT) });
    }

    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 15_000 }), downloadButton.click()]);
    expect(download.suggestedFilename()).toBe('report.md');
    const saved = path.join(temporaryDir, 'report.md');
    await download.saveAs(saved);
    expect(fs.readFileSync(saved, 'utf8')).toMatch(/^# Concierge demo report/);

    expect(tokenResponses.length).toBeGreaterThan(0);
    expect(tokenResponses[0]).toEqual({ token: expect.stringMatching(/^eyJ/), expiresAt: expect.any(String) });
    expect(pageErrors).toEqual([]);
    await page.close();

    const snapshot = snapshotProcesses(command);
    expect(snapshot.commands.some((line) => line.includes('server/bin/concierge.js serve'))).toBe(true);
    expect(snapshot.commands.some((line) => line.includes('demo/src/server.ts'))).toBe(true);
    // Ctrl+C in a terminal signals the whole foreground process group. npm waits for the script to
    // finish, then ends itself with the same signal (so a calling shell knows it was interrupted).
    process.kill(-command.pid, 'SIGINT');
    await expectFullStop(command, snapshot, [Number(environment.PORT), Number(environment.DEMO_PORT)], { code: null, signal: 'SIGINT' });
  });

  it('reuses the project, API key and widget app of the first run, and stops when only its own process gets SIGINT', async () => {
    expect(firstRun, 'the first test must have run').toBeDefined();
    const before = fs.readFileSync(path.join(dataDir, 'demo.json'), 'utf8');
    const command = runDemoCommand('bash', ['scripts/demo.sh'], { cwd: ROOT, env: environment, timeoutMs: READY_TIMEOUT_MS });
    started.push(command);
    const banner = await command.ready;

    expect(banner.apiKey).toBe(firstRun!.apiKey);
    expect(banner.appId).toBe(firstRun!.appId);
    expect(command.output()).toContain('from an earlier run');
    expect(command.output()).not.toContain('created an API key');
    expect(command.output()).not.toContain('created a widget app');
    expect(fs.readFileSync(path.join(dataDir, 'demo.json'), 'utf8')).toBe(before);

    // The reused key and app still work: the key lists tasks of the first run, the shop gets a token.
    const tasks = await fetch(`${banner.apiUrl}/api/v1/tasks`, { headers: { Authorization: `Bearer ${banner.apiKey}` } });
    expect(tasks.status).toBe(200);
    const token = (await (await fetch(`${banner.demoUrl}/concierge-token`, { method: 'POST' })).json()) as { token: string };
    expect(token.token).toMatch(/^eyJ/);

    // `bash scripts/demo.sh` execs node, so this pid is the orchestrator: a plain `kill -INT <pid>`.
    const snapshot = snapshotProcesses(command);
    process.kill(command.pid, 'SIGINT');
    await expectFullStop(command, snapshot, [Number(environment.PORT), Number(environment.DEMO_PORT)], { code: 0, signal: null });
  });

  it('keeps the same widget app, and so the visitor’s conversations, when the page moves to another DEMO_PORT', async () => {
    expect(firstRun, 'the first test must have run').toBeDefined();
    const moved: Record<string, string> = { ...environment, DEMO_PORT: String(await findFreePort()) };
    const command = runDemoCommand('bash', ['scripts/demo.sh'], { cwd: ROOT, env: moved, timeoutMs: READY_TIMEOUT_MS });
    started.push(command);
    const banner = await command.ready;
    expect(banner.appId).toBe(firstRun!.appId);
    expect(command.output()).not.toContain('created a widget app');
    const saved = JSON.parse(fs.readFileSync(path.join(dataDir, 'demo.json'), 'utf8')) as { app: { appId: string; origins: string[] } };
    expect(saved.app.appId).toBe(firstRun!.appId);
    expect(saved.app.origins).toEqual(expect.arrayContaining([`http://localhost:${environment.DEMO_PORT}`, `http://localhost:${moved.DEMO_PORT}`]));
    // The visitor's earlier conversations are still theirs from the moved page.
    const { token } = (await (await fetch(`${banner.demoUrl}/concierge-token`, { method: 'POST' })).json()) as { token: string };
    const listed = await fetch(`${banner.apiUrl}/api/v1/tasks`, { headers: { Authorization: `Bearer ${token}`, Origin: banner.demoUrl } });
    expect(listed.status).toBe(200);
    expect(((await listed.json()) as { data: unknown[] }).data.length).toBeGreaterThan(0);
    const snapshot = snapshotProcesses(command);
    process.kill(command.pid, 'SIGINT');
    await expectFullStop(command, snapshot, [Number(moved.PORT), Number(moved.DEMO_PORT)], { code: 0, signal: null });
  });
});
