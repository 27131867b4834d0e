/**
 * Saves screenshots of the widget's main states, light and dark, and of every turn state (approval, tool
 * result, error, retry, stopped) at phone and desktop width, to docs/images/ (run with
 * `node --import tsx test/e2e/take-screenshots.ts`). Real server, scripted or fake model, real Chromium.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { startFakeModel } from '../support/fake-model.ts';
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

/** A phone, and a desktop whose right-hand strip holds the panel. */
const WIDTHS = {
  375: { viewport: { width: 375, height: 720 }, clip: undefined },
  1280: { viewport: { width: 1280, height: 800 }, clip: { x: 820, y: 0, width: 460, height: 800 } },
} as const;
type Width = keyof typeof WIDTHS;

async function openAt(harness: WidgetHarness, width: Width, app: 'ask' | 'auto'): Promise<WidgetPage> {
  const widget = await openPage(harness, 'light', app, WIDTHS[width].viewport);
  await widget.open();
  return widget;
}

async function saveState(widget: WidgetPage, state: string, width: Width): Promise<void> {
  await widget.page.mouse.move(0, 0);
  await widget.page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await save(widget.page, `widget-${state}-${width}.png`, WIDTHS[width].clip);
  await widget.context.close();
}

const inWidget = (widget: WidgetPage) => widget.page.locator('concierge-chat');

/** The five turn states a visitor can meet, each at phone and desktop width. */
async function turnStates(harness: WidgetHarness, width: Width): Promise<void> {
  let widget = await openAt(harness, width, 'ask');
  await widget.send('What time is it on the server? Please run `date`');
  await inWidget(widget).getByRole('button', { name: 'Allow once' }).waitFor();
  await saveState(widget, 'approval', width);

  widget = await openAt(harness, width, 'auto');
  await widget.send('Please run `ls -la /workspace` for me');
  await widget.waitForIdle();
  await inWidget(widget).locator('.cc-result summary').first().click();
  await saveState(widget, 'tool-result', width);

  widget = await openAt(harness, width, 'auto');
  await widget.send('please fail now');
  await inWidget(widget).locator('.cc-interrupted').waitFor();
  await widget.waitForIdle();
  await saveState(widget, 'error', width);

  widget = await openAt(harness, width, 'auto');
  await widget.send('answer slowly please');
  await inWidget(widget).getByText('Sentence 3 of 40', { exact: false }).waitFor();
  await inWidget(widget).getByRole('button', { name: 'Stop' }).click();
  await inWidget(widget).locator('.cc-interrupted').waitFor();
  await widget.waitForIdle();
  await saveState(widget, 'stopped', width);
}

/** The retry state needs a model that fails once: the fake one, with a retry delay long enough to look at. */
async function retryState(width: Width): Promise<void> {
  const fake = await startFakeModel();
  fake.scenario('open on Sundays', (_request, index) =>
    index === 0 ? { error: { status: 503, message: 'overloaded' } } : { text: 'Here is your answer, on the second try.' },
  );
  const harness = await startWidgetHarness({
    CONCIERGE_MODEL: 'openai-compatible:fake-model',
    CONCIERGE_LLM_BASE_URL: fake.url,
    CONCIERGE_LLM_API_KEY: 'fake-key',
    CONCIERGE_MODEL_RETRY_DELAY_MS: '6000',
  });
  try {
    const widget = await openAt(harness, width, 'auto');
    await widget.send('When do you open on Sundays?');
    await inWidget(widget).getByText('trying again', { exact: false }).first().waitFor();
    await saveState(widget, 'retry', width);
  } finally {
    await harness.close();
    await fake.close();
  }
}

const only = process.argv[2];
const harness = await startWidgetHarness();
try {
  if (!only || only === 'schemes') {
    for (const scheme of ['light', 'dark'] as const) {
      await launcher(harness, scheme);
      await approval(harness, scheme);
      await conversation(harness, scheme);
    }
  }
  if (!only || only === 'states') for (const width of [375, 1280] as const) await turnStates(harness, width);
} finally {
  await harness.close();
}
if (!only || only === 'states') for (const width of [375, 1280] as const) await retryState(width);
