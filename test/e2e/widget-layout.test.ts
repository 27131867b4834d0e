import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoServer } from '../../demo/src/create-demo-server.ts';
import { DEMO_USER } from '../../demo/src/demo-user.ts';
import { countVisibleControls, findBlockedControls, horizontalOverflow } from './layout-probes.ts';
import { startWidgetHarness, type WidgetHarness } from './widget-harness.ts';

const WIDTHS = [320, 375, 768, 1280];
const viewport = (width: number) => ({ width, height: width < 768 ? 640 : 800 });

let harness: WidgetHarness;

beforeAll(async () => {
  harness = await startWidgetHarness();
});

afterAll(async () => {
  await harness?.close();
});

describe('widget layout at phone, tablet and desktop widths (Chromium)', () => {
  for (const width of WIDTHS) {
    it(`keeps every control clickable and nothing overflowing sideways at ${width} px`, async () => {
      const widget = await harness.openPage({ app: 'ask' }, { context: { viewport: viewport(width), hasTouch: width < 768 } });
      await widget.open();
      expect(await findBlockedControls(widget.page)).toEqual([]);
      // On a phone the panel is the whole screen: its header's close button, not a second one from the launcher.
      if (width < 768) expect(await countVisibleControls(widget.page, 'Close chat')).toBe(1);

      await widget.send('run `date` for me');
      await widget.page.locator('concierge-chat').getByRole('button', { name: 'Allow once' }).waitFor();
      // The approval card, Stop and the header, all reachable while the agent waits.
      expect(await widget.page.locator('concierge-chat .cc-stop').count()).toBe(1);
      expect(await findBlockedControls(widget.page)).toEqual([]);
      expect(await horizontalOverflow(widget.page)).toEqual({ page: 0, panel: 0 });

      await widget.page.locator('concierge-chat').getByRole('button', { name: 'Allow once' }).click();
      await widget.waitForIdle();
      await widget.composer.fill('thanks');
      // Send itself is clicked, not Enter: on a phone there is no Enter key to fall back on.
      expect(await findBlockedControls(widget.page)).toEqual([]);
      await widget.sendButton.click();
      await widget.log.getByText('thanks').waitFor();
      await widget.waitForIdle();
      if (width < 768) expect(await countVisibleControls(widget.page, 'Close chat')).toBe(1);
      expect(await horizontalOverflow(widget.page)).toEqual({ page: 0, panel: 0 });
    });
  }

  it('fills a phone screen from its edges instead of 100vh (the address bar would hide the composer)', async () => {
    const widget = await harness.openPage({}, { context: { viewport: { width: 375, height: 600 }, reducedMotion: 'reduce' } });
    await widget.open();
    const box = async () => Object.values((await widget.panel.boundingBox()) ?? {}).map(Math.round);
    await expect.poll(box).toEqual([0, 0, 375, 600]);
    await widget.page.setViewportSize({ width: 375, height: 520 });
    await expect.poll(box).toEqual([0, 0, 375, 520]);
  });
});

describe('demo help centre page on a phone', () => {
  let demo: http.Server;
  let demoUrl: string;

  beforeAll(async () => {
    demo = createDemoServer({
      conciergeUrl: harness.server.url,
      appId: harness.apps.auto.appId,
      appSecret: harness.apps.auto.appSecret,
      user: DEMO_USER,
      publicDir: path.resolve(fileURLToPath(import.meta.url), '../../../demo/public'),
    });
    await new Promise<void>((resolve) => demo.listen(0, '127.0.0.1', resolve));
    demoUrl = `http://127.0.0.1:${(demo.address() as AddressInfo).port}/`;
  });

  afterAll(async () => {
    await new Promise((resolve) => demo?.close(resolve));
  });

  for (const width of WIDTHS) {
    it(`does not overflow sideways and keeps its launcher on screen at ${width} px`, async () => {
      const context = await harness.browser.newContext({ viewport: viewport(width) });
      try {
        const page = await context.newPage();
        await page.goto(demoUrl);
        const launcher = page.locator('concierge-chat button.cc-launcher');
        await launcher.waitFor();
        expect((await horizontalOverflow(page)).page).toBe(0);
        const box = (await launcher.boundingBox())!;
        expect(box.x + box.width).toBeLessThanOrEqual(width);
        expect(await findBlockedControls(page)).toEqual([]);
      } finally {
        await context.close();
      }
    });
  }
});
