import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWidgetHarness, type WidgetHarness, type WidgetPage } from './widget-harness.ts';

let harness: WidgetHarness;

beforeAll(async () => {
  harness = await startWidgetHarness();
});

afterAll(async () => {
  await harness?.close();
});

/** Records `METHOD /path status` and the bearer token of every Task API response the page gets. */
function recordApiCalls(page: Page): { calls: string[]; tokens: string[] } {
  const record = { calls: [] as string[], tokens: [] as string[] };
  page.on('response', (response) => {
    const url = new URL(response.url());
    if (!url.pathname.startsWith('/api/v1/tasks') || response.request().method() === 'OPTIONS') return;
    record.calls.push(`${response.request().method()} ${url.pathname.replace(/[0-9a-f-]{36}/, '{id}')} ${response.status()}`);
    record.tokens.push(response.request().headers().authorization?.replace(/^Bearer /, '') ?? '');
  });
  return record;
}

const lastReply = async (widget: WidgetPage) => (await widget.assistantBubbles.last().textContent()) ?? '';

/** A real token with its signature changed: well-formed, unexpired, and refused by the server. */
function tamperSignature(token: string): string {
  const [header, payload, signature] = token.split('.') as [string, string, string];
  const first = signature[0] === 'A' ? 'B' : 'A';
  return `${header}.${payload}.${first}${signature.slice(1)}`;
}

describe('widget identity (Chromium)', () => {
  it('refreshes the token 60 s before it expires and keeps chatting with the new one', async () => {
    const widget = await harness.openPage({ expiresIn: '2m' }, { beforeGoto: (page) => page.clock.install() });
    const api = recordApiCalls(widget.page);
    await widget.open();
    await widget.send('hello');
    await widget.waitForIdle();
    expect(widget.tokenCalls()).toBe(1);

    await widget.page.clock.fastForward(58_000);
    await widget.page.waitForTimeout(200);
    expect(widget.tokenCalls()).toBe(1);
    await widget.page.clock.fastForward(3_000);
    await expect.poll(() => widget.tokenCalls()).toBe(2);

    await widget.send('hello again');
    await widget.log.getByText('hello again').waitFor();
    await widget.waitForIdle();
    expect(await widget.log.locator('.cc-assistant').count()).toBe(2);
    const first = api.tokens[0]!;
    const last = api.tokens[api.tokens.length - 1]!;
    expect(first).not.toBe('');
    expect(last).not.toBe(first);
    expect(api.calls.filter((call) => call.endsWith(' 401'))).toEqual([]);
  });

  it('uses a 1-minute token for half its life instead of fetching tokens in a loop', async () => {
    const widget = await harness.openPage({ expiresIn: '1m' }, { beforeGoto: (page) => page.clock.install() });
    await widget.open();
    await widget.send('hello');
    await widget.waitForIdle();
    await widget.page.waitForTimeout(1_000);
    expect(widget.tokenCalls()).toBe(1);
    await widget.page.clock.fastForward(31_000);
    await expect.poll(() => widget.tokenCalls()).toBe(2);
    await widget.page.waitForTimeout(500);
    expect(widget.tokenCalls()).toBe(2);
    await widget.send('still there?');
    await widget.log.getByText('still there?').waitFor();
    await widget.waitForIdle();
    expect(await widget.log.locator('.cc-assistant').count()).toBe(2);
  });

  it('after a 401 fetches a new token once and retries the request', async () => {
    const endUserId = `visitor-401-${process.pid}`;
    const refused = tamperSignature(await harness.host.mintToken(harness.apps.auto, endUserId));
    const widget = await harness.openPage({ endUserId, widget: { token: refused } });
    const api = recordApiCalls(widget.page);
    await widget.open();
    expect(widget.tokenCalls()).toBe(0);
    await widget.send('hello after a refused token');
    await widget.waitForIdle();
    expect(widget.tokenCalls()).toBe(1);
    expect(api.calls.slice(0, 2)).toEqual(['POST /api/v1/tasks 401', 'POST /api/v1/tasks 200']);
    expect(api.tokens[0]).toBe(refused);
    expect(api.tokens[1]).not.toBe(refused);
    expect(await widget.log.locator('.cc-user').allTextContents()).toEqual(['You: hello after a refused token']);
    expect(await lastReply(widget)).toContain("Concierge's built-in demo model");
  });

  it('works with only an initial token (no fetchToken)', async () => {
    const endUserId = `visitor-static-${process.pid}`;
    const token = await harness.host.mintToken(harness.apps.auto, endUserId);
    const widget = await harness.openPage({ endUserId, withoutFetchToken: true, widget: { token } });
    await widget.open();
    await widget.send('hello with a static token');
    await widget.waitForIdle();
    expect(widget.tokenCalls()).toBe(0);
    expect(await lastReply(widget)).toContain("Concierge's built-in demo model");
  });

  it('shows a friendly unavailable state when no token can be had, and recovers with "Try again"', async () => {
    const widget = await harness.openPage({ tokenEndpointFails: true });
    await widget.open();
    await widget.send('is anyone there?');
    const unavailable = widget.page.locator('concierge-chat .cc-unavailable');
    await unavailable.waitFor();
    expect(await unavailable.locator('p').textContent()).toBe('The chat is unavailable right now. Please try again later.');
    expect(widget.tokenCalls()).toBe(1);

    harness.host.updatePage(widget.url, { tokenEndpointFails: false });
    await unavailable.getByRole('button', { name: 'Try again' }).click();
    // The message the visitor wrote is still in the composer.
    expect(await widget.composer.inputValue()).toBe('is anyone there?');
    await widget.composer.press('Enter');
    await widget.waitForIdle();
    expect(await widget.log.locator('.cc-user').allTextContents()).toEqual(['You: is anyone there?']);
    expect(widget.tokenCalls()).toBe(2);
  });

  it('shows the unavailable state at once when neither token nor fetchToken is configured', async () => {
    const widget = await harness.openPage({ withoutFetchToken: true });
    await widget.launcher.click();
    const unavailable = widget.page.locator('concierge-chat .cc-unavailable');
    await unavailable.waitFor();
    expect(await widget.composer.count()).toBe(0);
  });
});
