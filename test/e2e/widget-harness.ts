import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, BrowserContextOptions, Locator, Page } from 'playwright-core';
import { createWidgetAppsService } from '../../server/src/services/widget-apps/widget-apps-service.ts';
import { DEFAULT_PROJECT_CONFIG, type ProjectConfig } from '../../server/src/store/project-config.ts';
import { openDatabase } from '../../server/src/store/open-database.ts';
import { createProjectsRepository } from '../../server/src/store/projects-repository.ts';
import { createWidgetAppsRepository } from '../../server/src/store/widget-apps-repository.ts';
import { startTestServer, type TestServer } from '../../server/src/testing/start-test-server.ts';
import { ensureWidgetBuilt } from './ensure-widget-built.ts';
import { type HostPageOptions, type HostPageServer, startHostPageServer, type WidgetAppCredentials } from './host-page-server.ts';
import { launchChromium } from './launch-chromium.ts';

/** Project whose file-writing and shell tools always ask the visitor first. */
export const ASK_PROJECT = 'e2e-ask';
/** Project with the default policy: tools run without asking. */
export const AUTO_PROJECT = 'e2e-auto';

/** A page embedding the widget, with locators for its parts (they pierce the open shadow root). */
export interface WidgetPage {
  page: Page;
  context: BrowserContext;
  url: string;
  launcher: Locator;
  panel: Locator;
  composer: Locator;
  sendButton: Locator;
  /** The finished messages (`role="log"`). */
  log: Locator;
  /** Finished and streaming assistant bubbles, oldest first. */
  assistantBubbles: Locator;
  /** Opens the launcher and waits until the composer can be typed in. */
  open(): Promise<void>;
  /** Types into the composer and presses Enter. */
  send(text: string): Promise<void>;
  /** Waits until the agent is done (composer enabled again). */
  waitForIdle(timeoutMs?: number): Promise<void>;
  tokenCalls(): number;
  /** Uncaught page errors and console errors so far (open() reports them when it times out). */
  errors: string[];
  /** GET /tasks/{id} of the widget's current conversation, from inside the page (allowed origin, fresh token). */
  currentTask(): Promise<{ id: string; status: string; [key: string]: unknown }>;
}

/** A host page: which app it uses (default `auto`), its visitor (default: a new one) and its other options. */
export type PageOptions = Omit<HostPageOptions, 'app' | 'endUserId'> & { app?: 'ask' | 'auto'; endUserId?: string };

/** Everything the widget end-to-end tests need: a real server, a host page on another origin, Chromium. */
export interface WidgetHarness {
  server: TestServer;
  host: HostPageServer;
  browser: Browser;
  apps: { ask: WidgetAppCredentials; auto: WidgetAppCredentials };
  /** Registers a host page and opens it in a fresh browser context (own storage, own downloads). */
  openPage(options: PageOptions, setup?: { context?: BrowserContextOptions; beforeGoto?: (page: Page) => Promise<unknown> }): Promise<WidgetPage>;
  close(): Promise<void>;
}

async function setUpProjects(dataDir: string, hostOrigin: string) {
  const database = await openDatabase({ dataDir, databaseUrl: undefined });
  try {
    const projects = createProjectsRepository(database.db);
    const askConfig: ProjectConfig = { ...DEFAULT_PROJECT_CONFIG, toolPolicies: { write_file: 'ask', run_shell_command: 'ask' } };
    await projects.upsert(ASK_PROJECT, askConfig);
    await projects.upsert(AUTO_PROJECT, DEFAULT_PROJECT_CONFIG);
    const service = createWidgetAppsService({ apps: createWidgetAppsRepository(database.db), projects });
    const create = async (project: string) => {
      const app = await service.create({ project, name: `${project} shop`, origins: [hostOrigin] });
      return { appId: app.id, appSecret: app.secret };
    };
    return { ask: await create(ASK_PROJECT), auto: await create(AUTO_PROJECT) };
  } finally {
    await database.close();
  }
}

let endUserCount = 0;

/**
 * Builds the widget if needed, then starts Concierge (scripted model with visible streaming), a host page
 * server on another port, two widget apps allowing that origin, and Chromium.
 */
export async function startWidgetHarness(env: Record<string, string> = {}): Promise<WidgetHarness> {
  ensureWidgetBuilt();
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'concierge-e2e-'));
  const server = await startTestServer({ CONCIERGE_MODEL: 'scripted', ...env }, { dataDir });
  const host = await startHostPageServer({ conciergeUrl: server.url });
  const apps = await setUpProjects(dataDir, host.origin);
  const browser = await launchChromium();
  const contexts = new Set<BrowserContext>();

  return {
    server,
    host,
    browser,
    apps,
    async openPage(options, setup = {}) {
      const { app = 'auto', endUserId = `visitor-${process.pid}-${++endUserCount}`, ...rest } = options;
      const url = host.addPage({ ...rest, app: apps[app], endUserId });
      const context = await browser.newContext({ viewport: { width: 1000, height: 760 }, ...setup.context });
      contexts.add(context);
      const page = await context.newPage();
      await setup.beforeGoto?.(page);
      await page.goto(url);
      return toWidgetPage(page, context, url, () => host.tokenCalls(url));
    },
    async close() {
      for (const context of contexts) await context.close().catch(() => undefined);
      await browser.close();
      await host.close();
      await server.close();
    },
  };
}

/** Locators and actions for a page that embeds the widget. */
export function toWidgetPage(page: Page, context: BrowserContext, url: string, tokenCalls: () => number): WidgetPage {
  const root = page.locator('concierge-chat');
  const composer = root.getByRole('textbox');
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()} ${message.location().url}`);
  });
  const widget: WidgetPage = {
    page,
    context,
    url,
    launcher: root.locator('button.cc-launcher'),
    panel: root.locator('.cc-panel'),
    composer,
    sendButton: root.locator('button.cc-send'),
    log: root.getByRole('log'),
    assistantBubbles: root.locator('.cc-assistant .cc-bubble.cc-markdown'),
    async open() {
      await widget.launcher.click();
      try {
        await page.waitForFunction(
          () => {
            const input = document.querySelector('concierge-chat')?.shadowRoot?.querySelector('textarea');
            return input instanceof HTMLTextAreaElement && !input.disabled;
          },
          undefined,
          { timeout: 10_000 },
        );
      } catch (error) {
        throw new Error(`the widget did not open with an enabled composer; page errors: ${JSON.stringify(errors)}`, { cause: error });
      }
    },
    async send(text) {
      await composer.fill(text);
      await composer.press('Enter');
    },
    async waitForIdle(timeoutMs = 20_000) {
      await page.waitForFunction(
        () => {
          const shadow = document.querySelector('concierge-chat')?.shadowRoot;
          const input = shadow?.querySelector('textarea');
          return input instanceof HTMLTextAreaElement && !input.disabled && !shadow?.querySelector('.cc-working');
        },
        undefined,
        { timeout: timeoutMs },
      );
    },
    tokenCalls,
    errors,
    async currentTask() {
      return page.evaluate(async () => {
        const config = (window as unknown as { ConciergeChat: { host: string; fetchToken: () => Promise<string> } }).ConciergeChat;
        const id = localStorage.getItem(`concierge:${config.host}:task`);
        if (!id) throw new Error('the widget has no current task');
        const response = await fetch(`${config.host}/api/v1/tasks/${id}`, { headers: { Authorization: `Bearer ${await config.fetchToken()}` } });
        return ((await response.json()) as { data: { id: string; status: string } }).data;
      });
    },
  };
  return widget;
}
