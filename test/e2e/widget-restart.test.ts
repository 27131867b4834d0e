import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SpawnedConcierge, spawnConcierge } from '../support/spawn-concierge.ts';
import { ensureWidgetBuilt } from './ensure-widget-built.ts';
import { type HostPageServer, startHostPageServer } from './host-page-server.ts';
import { launchChromium } from './launch-chromium.ts';
import { toWidgetPage } from './widget-harness.ts';

// A real `concierge serve` process, so the test can kill it the hard way mid-reply.
describe('widget across a server crash', () => {
  let server: SpawnedConcierge;
  let host: HostPageServer;
  let browser: Browser;
  let app: { appId: string; appSecret: string };

  beforeAll(async () => {
    ensureWidgetBuilt();
    server = await spawnConcierge({ env: { CONCIERGE_MODEL: 'scripted', LOG_LEVEL: 'info' } });
    host = await startHostPageServer({ conciergeUrl: server.url });
    const created = await server.cli(['apps', 'create', '--project', 'default', '--name', 'restart', '--origin', host.origin, '--json']);
    expect(created.code).toBe(0);
    app = JSON.parse(created.stdout);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await host?.close();
    await server?.stop();
  });

  it('finishes the reply exactly once when the server is killed and restarted mid-stream', async () => {
    const url = host.addPage({ app, endUserId: 'crash-visitor' });
    const context = await browser.newContext({ viewport: { width: 1000, height: 760 } });
    const page = await context.newPage();
    await page.goto(url);
    const widget = toWidgetPage(page, context, url, () => host.tokenCalls(url));
    await widget.open();
    await widget.send('slow reply please');
    await page.locator('concierge-chat [aria-busy="true"]').getByText('Sentence 4 of 40', { exact: false }).waitFor();

    await server.kill('SIGKILL');
    await page.locator('concierge-chat .cc-notice').getByText('Connection lost. Reconnecting…').waitFor();
    await server.restart();
    // While the resumed run streams, the half-written first attempt is not shown a second time.
    const streaming = page.locator('concierge-chat [aria-busy="true"] .cc-markdown');
    await streaming.getByText('Sentence 8 of 40', { exact: false }).waitFor({ timeout: 30_000 });
    expect(((await streaming.textContent()) ?? '').split('Sentence 1 of 40:').length - 1).toBe(1);

    await widget.waitForIdle(60_000);
    const text = (await widget.assistantBubbles.last().textContent()) ?? '';
    for (let sentence = 1; sentence <= 40; sentence += 1) {
      expect(text.split(`Sentence ${sentence} of 40:`).length - 1, `sentence ${sentence}`).toBe(1);
    }
    expect(await widget.assistantBubbles.count()).toBe(1);
    const task = await widget.currentTask();
    expect(task.status).toBe('completed');
    // A reload after the crash shows the same single reply from history.
    await page.reload();
    await widget.launcher.click();
    await widget.log.getByText('Sentence 40 of 40', { exact: false }).waitFor();
    const replayed = (await widget.assistantBubbles.last().textContent()) ?? '';
    expect(replayed.split('Sentence 1 of 40:').length - 1).toBe(1);
    await context.close();
  });
});
