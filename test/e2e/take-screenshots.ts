/**
 * Saves screenshots of the widget's main states, light and dark, to docs/images/ (run with
 * `node --import tsx test/e2e/take-screenshots.ts`). Real server, scripted model, real Chromium.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { startWidgetHarness, type WidgetHarness, type WidgetPage } from './widget-harness.ts';

const IMAGES_DIR = path.resolve(fileURLToPath(import.meta.url), '../../../docs/images');
const PANEL_VIEWPORT = { width: 1000, height: 760 };
/** The right part of the page: the panel, its launcher and a strip of the host page. */
const PANEL_CLIP = { x: 540, y: 0, width: 460, height: 760 };

const DARK_PAGE_CSS = 'body { background: #0e0f12; color: #d8dae0; }';
const BRANDING = { title: 'Acme Support', subtitle: 'Usually replies in seconds' };

type Scheme = 'light' | 'dark';

async function save(page: Page, name: string, clip?: typeof PANEL_CLIP): Promise<void> {
  // Let the panel's entrance animation and the last frame settle.
  await page.waitForTimeout(400);
  const file = path.join(IMAGES_DIR, name);
  await page.screenshot({ path: file, ...(clip ? { clip } : {}) });
  process.stdout.write(`saved ${path.relative(process.cwd(), file)}\n`);
}

async function openPage(harness: WidgetHarness, scheme: Scheme, app: 'ask' | 'auto', viewport = PANEL_VIEWPORT): Promise<WidgetPage> {
  return harness.openPage(
    {
      app,
      widget: { ...BRANDING, theme: { colorScheme: scheme } },
      ...(scheme === 'dark' ? { pageCss: DARK_PAGE_CSS } : {}),
    },
    { context: { viewport, reducedMotion: 'reduce', colorScheme: scheme } },
  );
}

async function launcher(harness: WidgetHarness, scheme: Scheme): Promise<void> {
  const widget = await openPage(harness, scheme, 'auto', { width: 720, height: 400 });
  await widget.launcher.waitFor();
  await save(widget.page, `widget-launcher-${scheme}.png`);
}

async function approval(harness: WidgetHarness, scheme: Scheme): Promise<void> {
  const widget = await openPage(harness, scheme, 'ask');
  await widget.open();
  await widget.send('What time is it on the server? Please run `date`');
  await widget.page.locator('concierge-chat').getByRole('button', { name: 'Allow once' }).waitFor();
  await widget.page.mouse.move(0, 0);
  await widget.page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await save(widget.page, `widget-approval-${scheme}.png`, PANEL_CLIP);
}

async function conversation(harness: WidgetHarness, scheme: Scheme): Promise<void> {
  const widget = await openPage(harness, scheme, 'auto');
  await widget.open();
  await widget.send('Please write a report on our spring teapot sales');
  await widget.waitForIdle();
  await widget.page.locator('concierge-chat').getByRole('button', { name: 'Download report.md' }).waitFor();
  await widget.page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await save(widget.page, `widget-conversation-${scheme}.png`, PANEL_CLIP);
}

const harness = await startWidgetHarness();
try {
  for (const scheme of ['light', 'dark'] as const) {
    await launcher(harness, scheme);
    await approval(harness, scheme);
    await conversation(harness, scheme);
  }
} finally {
  await harness.close();
}
