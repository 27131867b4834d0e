import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { focusedInWidget, pressUntilFocused, shadowStyles } from './widget-page-probes.ts';
import { startWidgetHarness, type WidgetHarness } from './widget-harness.ts';

let harness: WidgetHarness;

beforeAll(async () => {
  harness = await startWidgetHarness();
});

afterAll(async () => {
  await harness?.close();
});

const ACCENT = 'rgb(35, 80, 209)';

describe('widget on a host page (Chromium)', () => {
  it('is not restyled by hostile host CSS and its own CSS does not leak out', async () => {
    const widget = await harness.openPage({ hostileCss: true });
    const hostStyle = await widget.page.evaluate(() => {
      const style = getComputedStyle(document.querySelector('concierge-chat')!);
      return { display: style.display, visibility: style.visibility, opacity: style.opacity, transform: style.transform };
    });
    expect(hostStyle).toEqual({ display: 'block', visibility: 'visible', opacity: '1', transform: 'none' });
    const launcherBox = await widget.launcher.boundingBox();
    expect(launcherBox).toMatchObject({ width: 56, height: 56 });

    await widget.open();
    await widget.send('hello from a hostile page');
    await widget.waitForIdle();
    const styles = await shadowStyles(
      widget.page,
      ['.cc-launcher', '.cc-launcher svg', '.cc-panel', '.cc-header', '.cc-user .cc-bubble', '.cc-assistant .cc-markdown p', '.cc-input', '.cc-send'],
      ['display', 'color', 'background-color', 'font-size', 'font-family', 'padding', 'width', 'letter-spacing', 'border-top-width'],
    );
    expect(styles['.cc-launcher']).toMatchObject({ display: 'grid', 'background-color': ACCENT, width: '56px' });
    expect(styles['.cc-launcher svg']).toMatchObject({ width: '28px' });
    expect(styles['.cc-panel']).toMatchObject({ display: 'flex', 'font-size': '15px', 'letter-spacing': 'normal', width: '400px' });
    expect(styles['.cc-panel']!['font-family']).toMatch(/^system-ui/);
    expect(styles['.cc-header']).toMatchObject({ padding: '10px 10px 10px 14px', 'background-color': ACCENT, 'border-top-width': '0px' });
    expect(styles['.cc-user .cc-bubble']).toMatchObject({ 'background-color': ACCENT, color: 'rgb(255, 255, 255)' });
    expect(styles['.cc-assistant .cc-markdown p']).toMatchObject({ color: 'rgb(27, 27, 31)', 'font-size': '15px' });
    expect(styles['.cc-input']!.display).not.toBe('none');
    expect(styles['.cc-send']!.display).toBe('grid');
    expect(await widget.log.locator('.cc-user').allTextContents()).toEqual(['You: hello from a hostile page']);

    // The widget's `pre` and `h2` rules stay inside its shadow root.
    const hostPage = await widget.page.evaluate(() => {
      const pre = getComputedStyle(document.getElementById('host-pre')!);
      return { preBorder: pre.borderTopWidth, preRadius: pre.borderTopLeftRadius, titleFont: getComputedStyle(document.getElementById('host-title')!).fontSize };
    });
    expect(hostPage).toEqual({ preBorder: '0px', preRadius: '0px', titleFont: '40px' });
  });

  it('works under a strict Content-Security-Policy that allows only the Concierge origin', async () => {
    const recordViolations = () => {
      const violations: string[] = [];
      (window as unknown as { __cspViolations: string[] }).__cspViolations = violations;
      document.addEventListener('securitypolicyviolation', (event) => violations.push(`${event.violatedDirective} ${event.blockedURI}`));
    };
    const widget = await harness.openPage({ strictCsp: true }, { beforeGoto: (page) => page.addInitScript(recordViolations) });
    const response = await widget.page.request.get(widget.url);
    expect(response.headers()['content-security-policy']).toContain(`connect-src 'self' ${harness.server.url}`);
    await widget.open();
    await widget.send('write a report under a strict policy');
    await widget.waitForIdle();
    const styles = await shadowStyles(widget.page, ['.cc-launcher', '.cc-panel'], ['background-color', 'font-size']);
    expect(styles['.cc-launcher']!['background-color']).toBe(ACCENT);
    expect(styles['.cc-panel']!['font-size']).toBe('15px');
    const downloadEvent = widget.page.waitForEvent('download');
    await widget.page.locator('concierge-chat').getByRole('button', { name: 'Download report.md' }).click();
    expect((await downloadEvent).suggestedFilename()).toBe('report.md');
    expect(await widget.page.evaluate(() => (window as unknown as { __cspViolations: string[] }).__cspViolations)).toEqual([]);
  });

  it('renders inline in a container without a launcher', async () => {
    const widget = await harness.openPage({ inlineContainer: true, widget: { container: '#chat', title: 'Order help', subtitle: 'We answer in minutes' } });
    await widget.composer.waitFor();
    expect(await widget.launcher.count()).toBe(0);
    expect(await widget.panel.getAttribute('role')).toBe('region');
    expect(await widget.panel.getByRole('heading', { name: 'Order help' }).count()).toBe(1);
    expect(await widget.panel.getByText('We answer in minutes').count()).toBe(1);
    expect(await widget.panel.getByRole('button', { name: 'Close chat' }).count()).toBe(0);
    const container = (await widget.page.locator('#chat').boundingBox())!;
    const panel = (await widget.panel.boundingBox())!;
    expect(panel).toEqual(container);
    await widget.send('hello inline');
    await widget.waitForIdle();
    expect(await widget.assistantBubbles.count()).toBe(1);
  });

  it('works with the keyboard only: Tab, Enter, Shift+Enter, approvals, Escape returns focus to the launcher', async () => {
    const widget = await harness.openPage({ app: 'ask' });
    const page = widget.page;
    await pressUntilFocused(page, 'Tab', (focused) => focused.className === 'cc-launcher');
    await page.keyboard.press('Enter');
    await expect.poll(async () => (await focusedInWidget(page))?.tag).toBe('textarea');
    expect(await widget.launcher.getAttribute('aria-expanded')).toBe('true');

    await page.keyboard.type('Please write a report');
    await page.keyboard.press('Shift+Enter');
    await page.keyboard.type('about teapots');
    expect(await widget.composer.inputValue()).toBe('Please write a report\nabout teapots');
    await page.keyboard.press('Enter');
    await widget.log.locator('.cc-user').first().waitFor();
    expect(await widget.log.locator('.cc-user .cc-bubble').textContent()).toBe('Please write a report\nabout teapots');
    expect(await widget.composer.inputValue()).toBe('');

    await page.locator('concierge-chat').getByRole('button', { name: 'Allow once' }).waitFor();
    // While the agent works, focus moves from the disabled composer to Stop; the approval sits before it.
    expect((await focusedInWidget(page))?.name).toBe('Stop');
    await pressUntilFocused(page, 'Shift+Tab', (focused) => focused.name === 'Allow once');
    await page.keyboard.press('Enter');
    await page.locator('concierge-chat').getByText('You allowed this once.').waitFor();
    await widget.waitForIdle();
    await expect.poll(async () => (await focusedInWidget(page))?.tag).toBe('textarea');

    await page.keyboard.press('Escape');
    await expect.poll(() => widget.panel.isVisible()).toBe(false);
    expect(await focusedInWidget(page)).toMatchObject({ className: 'cc-launcher', name: 'Open chat' });
    expect(await widget.launcher.getAttribute('aria-expanded')).toBe('false');

    // Enter on the launcher reopens the same conversation.
    await page.keyboard.press('Enter');
    await expect.poll(async () => (await focusedInWidget(page))?.tag).toBe('textarea');
    expect(await widget.log.locator('.cc-user').count()).toBe(1);
  });
});
