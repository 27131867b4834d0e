import type { Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGate, type FakeModel, messageText, startFakeModel } from '../support/fake-model.ts';
import { startWidgetHarness, type WidgetHarness } from './widget-harness.ts';

let fake: FakeModel;
let harness: WidgetHarness;

beforeAll(async () => {
  fake = await startFakeModel();
  harness = await startWidgetHarness({
    CONCIERGE_MODEL: 'openai-compatible:fake-model',
    CONCIERGE_LLM_BASE_URL: fake.url,
    CONCIERGE_LLM_API_KEY: 'fake-key',
    // The retry state lasts until the next event of the turn: a second, not the harness's 10 ms, so a
    // screen that paints once a frame shows it every time.
    CONCIERGE_MODEL_RETRY_DELAY_MS: '1000',
  });
});

afterAll(async () => {
  await harness?.close();
  await fake?.close();
});

describe('widget with a fast model (Chromium, real server, fake OpenAI-compatible model)', () => {
  it('shows a follow-up reply that finished before the widget resumed its stream, without a reload', async () => {
    // Answers at once, echoing the latest question, so each turn's reply is known.
    fake.scenario('[fast]', (request) => ({ text: `Answer to: ${messageText(request.messages.filter((m) => m.role === 'user').at(-1))}` }));
    const widget = await harness.openPage({});
    await widget.open();
    await widget.send('[fast] first question');
    await widget.assistantBubbles.getByText('Answer to: [fast] first question').waitFor();
    await widget.waitForIdle();

    // Hold the resumed stream until the follow-up's turn is over on the server: the model beat the widget.
    let held = 0;
    await widget.page.route('**/stream', async (route: Route) => {
      held += 1;
      await expect.poll(async () => (await widget.currentTask()).status, { timeout: 15_000 }).toBe('completed');
      await expect.poll(() => fake.requestsFor('[fast]').length).toBe(2);
      await route.continue();
    });
    await widget.send('follow-up two');
    await widget.assistantBubbles.getByText('Answer to: follow-up two').waitFor({ timeout: 15_000 });
    await widget.waitForIdle();
    expect(held).toBeGreaterThanOrEqual(1);
    expect(await widget.assistantBubbles.allTextContents()).toEqual(['Answer to: [fast] first question', 'Answer to: follow-up two']);
  });

  it('shows the retry and drops the failed attempt\'s partial text when the model stream is cut', async () => {
    // First attempt: two chunks, then the connection drops; the retried attempt streams the whole answer.
    // The first attempt waits until the widget's stream is open, so the retry reaches it live, not folded into history.
    const streamOpen = createGate();
    fake.scenario('[cut]', async (_request, index) => {
      if (index > 0) return { text: ['The answer, ', 'complete.'] };
      await streamOpen.promise;
      return { text: ['Half of a ', 'first try ', 'that never ends'], cutAfter: 2 };
    });
    const widget = await harness.openPage({});
    await widget.open();
    await widget.page.evaluate(() => {
      const shadow = document.querySelector('concierge-chat')!.shadowRoot!;
      const seen = { retry: false, texts: [] as string[] };
      (window as unknown as { __retry: typeof seen }).__retry = seen;
      new MutationObserver(() => {
        if (shadow.querySelector('.cc-working')?.textContent?.includes('trying again')) seen.retry = true;
        const bubble = shadow.querySelector('[aria-busy="true"] .cc-markdown');
        if (bubble?.textContent) seen.texts.push(bubble.textContent);
      }).observe(shadow, { subtree: true, childList: true, characterData: true });
    });
    const stream = widget.page.waitForResponse((response) => response.url().endsWith('/stream'));
    await widget.send('[cut] tell me');
    await stream;
    streamOpen.open();
    await widget.assistantBubbles.getByText('The answer, complete.').waitFor({ timeout: 15_000 });
    await widget.waitForIdle();
    const seen = await widget.page.evaluate(() => (window as unknown as { __retry: { retry: boolean; texts: string[] } }).__retry);
    expect(seen.retry).toBe(true);
    expect(await widget.assistantBubbles.allTextContents()).toEqual(['The answer, complete.']);
    // The failed attempt's words never sit in front of the retried answer.
    expect(seen.texts.some((text) => text.includes('Half of a') && text.includes('The answer'))).toBe(false);
  });
});
