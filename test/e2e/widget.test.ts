import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTcpProxy } from './tcp-proxy.ts';
import { readStreaming, recordStreaming } from './widget-page-probes.ts';
import { startWidgetHarness, type WidgetHarness, type WidgetPage } from './widget-harness.ts';

let harness: WidgetHarness;

beforeAll(async () => {
  harness = await startWidgetHarness();
});

afterAll(async () => {
  await harness?.close();
});

const widgetButton = (widget: WidgetPage, name: string) => widget.page.locator('concierge-chat').getByRole('button', { name, exact: true });
const lastBubbleText = async (widget: WidgetPage) => (await widget.assistantBubbles.last().textContent()) ?? '';

describe('widget conversation (Chromium, real server, host page on another origin)', () => {
  it('opens from the launcher, sends, and streams a safe Markdown reply', async () => {
    const widget = await harness.openPage({});
    expect(await widget.launcher.getAttribute('aria-label')).toBe('Open chat');
    expect(await widget.launcher.getAttribute('aria-expanded')).toBe('false');
    await widget.open();
    expect(await widget.launcher.getAttribute('aria-expanded')).toBe('true');
    expect(await widget.panel.getAttribute('role')).toBe('dialog');

    await recordStreaming(widget.page);
    await widget.send('Show me some markdown please');
    await widget.log.getByText('Show me some markdown please').waitFor();
    await widget.waitForIdle();

    const streaming = await readStreaming(widget.page);
    // Several growing lengths: the reply arrived in pieces, not as one block at the end.
    expect(streaming.lengths.length).toBeGreaterThanOrEqual(4);
    expect(streaming.lengths).toEqual([...streaming.lengths].sort((a, b) => a - b));
    expect(streaming.sawStop).toBe(true);

    const bubble = widget.log.locator('.cc-assistant .cc-markdown').last();
    expect(await bubble.locator('h3').first().textContent()).toBe('Markdown demo');
    expect(await bubble.locator('pre code').textContent()).toContain('function greet(name: string)');
    const link = bubble.getByRole('link', { name: 'Concierge README' });
    expect(await link.getAttribute('target')).toBe('_blank');
    expect(await link.getAttribute('rel')).toBe('noopener noreferrer');
    // The model's literal <script> shows as text and never becomes an element.
    expect(await bubble.textContent()).toContain('<script>alert(1)</script>');
    expect(await widget.page.evaluate(() => document.querySelector('concierge-chat')!.shadowRoot!.querySelectorAll('script').length)).toBe(0);
    expect(await bubble.locator('em').last().textContent()).toContain('CONCIERGE_MODEL');
  });

  it('runs a tool call after "Allow once" and shows its result', async () => {
    const widget = await harness.openPage({ app: 'ask' });
    await widget.open();
    await widget.send('write a report about teapots');
    const card = widget.page.locator('concierge-chat .cc-tool').first();
    await widgetButton(widget, 'Allow once').waitFor();
    // What will happen, in words, with the path as code; never the tool's wire name above raw JSON.
    expect(await card.locator('.cc-tool-title').textContent()).toBe('Write a file');
    expect(await card.locator('.cc-tool-subject').textContent()).toBe('downloads/report.md');
    expect(await card.locator('.cc-badge').textContent()).toBe('Waiting for approval');
    expect(await card.locator('legend').textContent()).toBe('The assistant asks to do this. Allow it?');
    expect(await card.locator('.cc-approval pre').textContent()).not.toContain('{');
    expect(await card.textContent()).not.toContain('write_file');
    expect(await widget.composer.isDisabled()).toBe(true);

    await widgetButton(widget, 'Allow once').click();
    await card.getByText('You allowed this once.').waitFor();
    await widget.waitForIdle();
    expect(await card.locator('.cc-badge').textContent()).toBe('Done');
    expect(await widgetButton(widget, 'Allow once').count()).toBe(0);
    await card.locator('.cc-result summary').click();
    expect(await card.locator('.cc-result pre').last().textContent()).toMatch(/Wrote \d+ bytes/);
    expect(await lastBubbleText(widget)).toContain('Done: I wrote a short report to downloads/report.md');
  });

  it('shows the rejection after "Deny"', async () => {
    const widget = await harness.openPage({ app: 'ask' });
    await widget.open();
    await widget.send('run `date` for me');
    await widgetButton(widget, 'Deny').click();
    const card = widget.page.locator('concierge-chat .cc-tool').first();
    await card.getByText('You denied this.').waitFor();
    await widget.waitForIdle();
    expect(await card.locator('.cc-badge').textContent()).toBe('Denied');
    expect(await card.locator('.cc-tool-title').textContent()).toBe('Run a command');
    expect(await card.locator('.cc-tool-subject').textContent()).toBe('date');
    expect(await lastBubbleText(widget)).toContain('I did not run that command, because you declined it');
    expect((await widget.currentTask()).status).toBe('completed');
  });

  it('asks once after "Always allow": the next call of that tool runs without an approval card', async () => {
    const widget = await harness.openPage({ app: 'ask' });
    await widget.open();
    await widget.send('run `echo first-call`');
    await widgetButton(widget, 'Always allow').click();
    await widget.page.locator('concierge-chat').getByText('You always allow this.').waitFor();
    await widget.waitForIdle();
    expect(await lastBubbleText(widget)).toContain('first-call');

    await widget.page.evaluate(() => {
      const shadow = document.querySelector('concierge-chat')!.shadowRoot!;
      const seen = { approval: false };
      (window as unknown as { __approval: typeof seen }).__approval = seen;
      new MutationObserver(() => {
        if (shadow.querySelector('.cc-approval')) seen.approval = true;
      }).observe(shadow, { subtree: true, childList: true });
    });
    await widget.send('run `echo second-call`');
    await widget.log.getByText('run `echo second-call`').waitFor();
    await widget.waitForIdle();
    expect(await lastBubbleText(widget)).toContain('second-call');
    expect(await widget.page.evaluate(() => (window as unknown as { __approval: { approval: boolean } }).__approval.approval)).toBe(false);
    const badges = await widget.page.locator('concierge-chat .cc-tool .cc-badge').allTextContents();
    expect(badges).toEqual(['Done', 'Done']);
  });

  it('shows a pending approval again after a reload, and the choice made there afterwards', async () => {
    const widget = await harness.openPage({ app: 'ask' });
    await widget.open();
    await widget.send('run `echo after-reload`');
    await widgetButton(widget, 'Allow once').waitFor();
    await widget.page.reload();
    await widget.launcher.click();
    await widgetButton(widget, 'Allow once').click();
    await widget.page.locator('concierge-chat').getByText('You allowed this once.').waitFor();
    await widget.waitForIdle();
    expect(await lastBubbleText(widget)).toContain('after-reload');

    await widget.page.reload();
    await widget.launcher.click();
    await widget.waitForIdle();
    const card = widget.page.locator('concierge-chat .cc-tool').first();
    expect(await card.locator('.cc-decision').textContent()).toBe('You allowed this once.');
    expect(await card.locator('.cc-badge').textContent()).toBe('Done');
    expect(await widgetButton(widget, 'Allow once').count()).toBe(0);
  });

  it('stops a running task with "Stop"', async () => {
    const widget = await harness.openPage({});
    await widget.open();
    await widget.send('answer slowly please');
    await widget.page.locator('concierge-chat').getByText('Sentence 3 of 40', { exact: false }).waitFor();
    const stop = widgetButton(widget, 'Stop');
    await stop.click();
    await widget.page.locator('concierge-chat').getByText('This reply was stopped.').first().waitFor();
    await widget.waitForIdle();
    const lengthAtStop = (await lastBubbleText(widget)).length;
    await widget.page.waitForTimeout(700);
    expect((await lastBubbleText(widget)).length).toBe(lengthAtStop);
    expect(await lastBubbleText(widget)).not.toContain('Sentence 40 of 40');
    expect(await stop.count()).toBe(0);
    expect((await widget.currentTask()).status).toBe('cancelled');

    // The stopped turn stays, with its text so far, after a reload.
    await widget.page.reload();
    await widget.open();
    await widget.log.locator('.cc-interrupted').waitFor();
    expect(await widget.log.locator('.cc-interrupted').allTextContents()).toEqual(['This reply was stopped.']);
    expect(await lastBubbleText(widget)).toContain('Sentence 3 of 40');
  });

  it('attaches a file through the file chooser and the agent reads it', async () => {
    const widget = await harness.openPage({});
    await widget.open();
    const chooser = widget.page.waitForEvent('filechooser');
    await widgetButton(widget, 'Attach files').click();
    await (await chooser).setFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('Order 4711: blue teapot, ships Monday.\n') });
    const chips = widget.page.locator('concierge-chat .cc-composer').getByRole('list', { name: 'Attached files' });
    expect(await chips.locator('li').allTextContents()).toEqual(['notes.txt']);
    expect(await widgetButton(widget, 'Remove notes.txt').count()).toBe(1);

    await widget.send('read uploads/notes.txt');
    await widget.waitForIdle();
    expect(await widget.log.locator('.cc-user .cc-files li').allTextContents()).toEqual(['notes.txt']);
    expect(await chips.count()).toBe(0);
    expect(await lastBubbleText(widget)).toContain('Order 4711: blue teapot, ships Monday.');
  });

  it('downloads a file the agent wrote to downloads/', async () => {
    const widget = await harness.openPage({});
    await widget.open();
    await widget.send('write a report on the spring collection');
    await widget.waitForIdle();
    const link = widgetButton(widget, 'Download report.md');
    await link.waitFor();
    expect(await widget.page.locator('concierge-chat .cc-downloads h3').textContent()).toBe('Files from the assistant');
    const downloadEvent = widget.page.waitForEvent('download');
    await link.click();
    const download = await downloadEvent;
    expect(download.suggestedFilename()).toBe('report.md');
    const chunks: Buffer[] = [];
    for await (const chunk of (await download.createReadStream())!) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    expect(text).toContain('# Concierge demo report');
    expect(text).toContain('> write a report on the spring collection');
  });

  it('continues a reply after a reload mid-stream, without duplicated or lost text', async () => {
    const widget = await harness.openPage({});
    await widget.open();
    await widget.send('slow reply please');
    await widget.page.locator('concierge-chat').getByText('Sentence 4 of 40', { exact: false }).waitFor();
    await widget.page.reload();
    await widget.launcher.click();
    // The replayed history shows at once and the reply is still being written: the live tail follows.
    const streamingBubble = widget.page.locator('concierge-chat [aria-busy="true"] .cc-markdown');
    await streamingBubble.getByText('Sentence 2 of 40', { exact: false }).waitFor({ timeout: 5_000 });
    expect(await streamingBubble.textContent()).not.toContain('Sentence 40 of 40');
    expect(await widget.composer.isDisabled()).toBe(true);
    await widget.waitForIdle(30_000);
    const text = await lastBubbleText(widget);
    for (let sentence = 1; sentence <= 40; sentence += 1) {
      expect(text.split(`Sentence ${sentence} of 40:`).length - 1, `sentence ${sentence}`).toBe(1);
    }
    expect(await widget.log.locator('.cc-user').allTextContents()).toEqual(['You: slow reply please']);
    expect(await widget.assistantBubbles.count()).toBe(1);
  });

  it('is scrolled to the end of the log once a reply that was reloaded mid-stream finishes', async () => {
    const widget = await harness.openPage({}, { context: { viewport: { width: 375, height: 640 } } });
    await widget.open();
    // Earlier turns above the reply: long Markdown the browser lays out lazily (content-visibility).
    for (const turn of ['first', 'second']) {
      await widget.send(`Show me some markdown please (${turn})`);
      await widget.waitForIdle();
    }
    await widget.send('slow reply please');
    await widget.page.locator('concierge-chat').getByText('Sentence 6 of 40', { exact: false }).waitFor();
    await widget.page.reload();
    await widget.launcher.click();
    await widget.page.locator('concierge-chat [aria-busy="true"] .cc-markdown').waitFor();
    await widget.waitForIdle(30_000);
    const scroller = widget.page.locator('concierge-chat .cc-scroll');
    const gap = () => scroller.evaluate((element) => element.scrollHeight - element.scrollTop - element.clientHeight);
    // The reply is longer than the panel, so being at the end is not a given.
    expect(await scroller.evaluate((element) => element.scrollHeight > element.clientHeight * 2)).toBe(true);
    await expect.poll(gap).toBeLessThan(2);
  });

  it('shows the approval buttons in a new conversation whose call id matches one decided in an earlier conversation', async () => {
    const widget = await harness.openPage({ app: 'ask' });
    await widget.open();
    await widget.send('run `echo first-conversation`');
    await widgetButton(widget, 'Allow once').click();
    await widget.page.locator('concierge-chat').getByText('You allowed this once.').waitFor();
    await widget.waitForIdle();
    const firstTask = (await widget.currentTask()).id;

    await widgetButton(widget, 'New conversation').click();
    await widget.send('run `echo second-conversation`');
    // The scripted model numbers its calls per task, so this call has the same id as the one decided above.
    await widgetButton(widget, 'Allow once').waitFor();
    expect((await widget.currentTask()).id).not.toBe(firstTask);
    expect(await widget.page.locator('concierge-chat .cc-decision').count()).toBe(0);
    await widgetButton(widget, 'Deny').click();
    await widget.page.locator('concierge-chat').getByText('You denied this.').waitFor();
    await widget.waitForIdle();

    // Each conversation keeps its own decision after a reload.
    await widget.page.reload();
    await widget.open();
    await widget.page.locator('concierge-chat .cc-decision').waitFor();
    expect(await widget.page.locator('concierge-chat .cc-decision').allTextContents()).toEqual(['You denied this.']);
  });

  it('reconnects with Last-Event-ID after a network drop, without duplicated or lost text', async () => {
    const proxy = await startTcpProxy(harness.server.url);
    try {
      const widget = await harness.openPage({ widget: { host: proxy.url } });
      const resumedFrom: string[] = [];
      widget.page.on('request', (request) => {
        if (request.url().endsWith('/stream')) resumedFrom.push(request.headers()['last-event-id'] ?? '');
      });
      await widget.open();
      await widget.send('slow answer please');
      await widget.page.locator('concierge-chat [aria-busy="true"]').getByText('Sentence 4 of 40', { exact: false }).waitFor();
      proxy.drop(1_200);
      expect(proxy.dropped).toBeGreaterThan(0);
      await widget.page.locator('concierge-chat .cc-notice').getByText('Connection lost. Reconnecting…').waitFor();
      await widget.waitForIdle(30_000);
      expect(await widget.page.locator('concierge-chat .cc-notice').count()).toBe(0);
      expect(resumedFrom[0]).toBe('');
      expect(resumedFrom.length).toBeGreaterThanOrEqual(2);
      expect(Number(resumedFrom[resumedFrom.length - 1])).toBeGreaterThan(0);
      const text = await lastBubbleText(widget);
      for (let sentence = 1; sentence <= 40; sentence += 1) {
        expect(text.split(`Sentence ${sentence} of 40:`).length - 1, `sentence ${sentence}`).toBe(1);
      }
    } finally {
      await proxy.close();
    }
  });

  it('takes dropped files and checks the limits before uploading', async () => {
    const widget = await harness.openPage({});
    await widget.open();
    const drop = async (files: Array<{ name: string; size: number }>) => {
      const transfer = await widget.page.evaluateHandle((list) => {
        const data = new DataTransfer();
        for (const file of list) data.items.add(new File([new Uint8Array(file.size)], file.name));
        return data;
      }, files);
      await widget.panel.dispatchEvent('dragover', { dataTransfer: transfer });
      await widget.page.locator('concierge-chat .cc-dropzone').waitFor();
      await widget.panel.dispatchEvent('drop', { dataTransfer: transfer });
    };
    const chips = widget.page.locator('concierge-chat .cc-composer .cc-chips li span');
    await drop([{ name: 'photo.jpg', size: 1024 }]);
    expect(await chips.allTextContents()).toEqual(['photo.jpg']);
    expect(await widget.page.locator('concierge-chat .cc-dropzone').count()).toBe(0);

    await drop([{ name: 'huge.bin', size: 50 * 1024 * 1024 + 1 }]);
    expect(await widget.page.locator('concierge-chat .cc-notice[role="alert"]').textContent()).toBe('“huge.bin” is larger than 50 MB.');
    expect(await chips.allTextContents()).toEqual(['photo.jpg']);

    await drop(Array.from({ length: 20 }, (_, index) => ({ name: `f${index}.txt`, size: 10 })));
    expect(await widget.page.locator('concierge-chat .cc-notice[role="alert"]').textContent()).toBe('You can attach at most 20 files.');
    expect(await chips.count()).toBe(20);

    await widget.page.locator('concierge-chat').getByRole('button', { name: 'Remove photo.jpg' }).click();
    expect(await chips.count()).toBe(19);
  });

  it('lists earlier conversations, starts a new one and reopens an old one with its history', async () => {
    const widget = await harness.openPage({});
    await widget.open();
    await widget.send('first conversation');
    await widget.waitForIdle();
    await widgetButton(widget, 'New conversation').click();
    expect(await widget.log.locator('.cc-message').count()).toBe(0);
    await widget.send('second conversation');
    await widget.waitForIdle();

    await widgetButton(widget, 'Show conversations').click();
    const list = widget.page.locator('concierge-chat').getByRole('navigation', { name: 'Conversations' });
    const entries = list.locator('.cc-conversation-title');
    await entries.first().waitFor();
    expect((await entries.allTextContents()).sort()).toEqual(['first conversation', 'second conversation']);
    expect(await list.locator('[aria-current="true"] .cc-conversation-title').textContent()).toBe('second conversation');
    await list.getByRole('button', { name: /first conversation/ }).click();
    await widget.log.locator('.cc-user').first().waitFor();
    expect(await widget.log.locator('.cc-user').allTextContents()).toEqual(['You: first conversation']);
    expect(await widget.log.locator('.cc-assistant').count()).toBe(1);
    await widget.waitForIdle();
  });

  it('shows a model failure plainly after the retries', async () => {
    const widget = await harness.openPage({});
    await widget.open();
    await widget.send('please fail now');
    const error = widget.page.locator('concierge-chat .cc-interrupted.cc-error');
    await error.waitFor();
    const text = (await error.textContent()) ?? '';
    expect(text).toMatch(/^Something went wrong: The AI model/);
    expect(text).not.toMatch(/HTTP|\d{3}\)/);
    await widget.waitForIdle();
    expect((await widget.currentTask()).status).toBe('failed');

    // The failed turn is part of the conversation: it stays after the next message and after a reload.
    await widget.send('Show me some markdown please');
    await widget.log.getByText('Show me some markdown please').waitFor();
    await widget.waitForIdle();
    expect(await widget.log.locator('.cc-interrupted.cc-error').allTextContents()).toEqual([text]);
    await widget.page.reload();
    await widget.open();
    await widget.log.locator('.cc-interrupted.cc-error').waitFor();
    expect(await widget.log.locator('.cc-interrupted.cc-error').allTextContents()).toEqual([text]);
    expect(await widget.log.locator('.cc-user').count()).toBe(2);
  });
});
